"""A flagged-subset export works on the flagged ids, in one pass or in several.

Passes partition the flagged ids (``export_flagged``), not the samples; the
rows written must be the same either way. (Whether DuckDB pushes the ids into
the samples scan is an adaptive runtime choice, visible only at millions of
rows: ``benchmarks/bench_scale.py --only 'export flagged'`` measures it.)
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.flaggers.runner import run_flagger
from tests.conftest import sample_rows
from tests.export.helpers import read_rows, run


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    """20,000 samples; the keyword rule flags every 50th (2%, LAION's share)."""
    audit = Audit.init(tmp_path_factory.mktemp("scale") / "audit")
    rows = sample_rows(20_000)
    for i, row in enumerate(rows):
        if i % 50 == 0:
            row["text"] = f"a forbidden caption {i}"
    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, pa.Table.from_pylist(rows))
    run_flagger(audit, "keyword", terms=["forbidden"])
    return audit


def test_flagged_export_in_passes_writes_the_same_rows(big: Audit, tmp_path: Path) -> None:
    one = run(big, tmp_path, name="one.parquet", flagged_by=("keyword",))
    big.store.exports.pass_rows = 100  # 400 flagged samples: 8 passes of 50 flagged ids
    try:
        parts = run(big, tmp_path, name="parts.parquet", flagged_by=("keyword",))
    finally:
        del big.store.exports.pass_rows
    key = lambda r: r["sample_id"]  # noqa: E731
    assert sorted(read_rows(parts.path), key=key) == sorted(read_rows(one.path), key=key)
    assert parts.rows == one.rows == 400
