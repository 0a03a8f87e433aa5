"""The ML flaggers through the real runner: parts, provenance, flags."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import sample_rows

pytestmark = pytest.mark.ml


def test_hate_run_through_the_runner(
    audit: Any, add_samples: Callable[[list[dict[str, Any]]], int], tiny_hate_dir: Path
) -> None:
    from reviewer.flaggers.runner import run_flagger

    rows = sample_rows(7)
    rows[1]["text"] = None
    rows[4]["text"] = "  "
    rows[5]["text"] = "Привет мир, как дела"
    add_samples(rows)
    info = run_flagger(
        audit, "hate", batch_size=3, model=str(tiny_hate_dir), device="cpu", quantize=True
    )
    assert info.status == "complete"
    assert (info.parts, info.scored_rows, info.unscored_rows) == (3, 5, 2)
    saved = json.loads((Path(info.path) / "run.json").read_text())
    assert saved["extra"]["unscored_captions"] == 2
    assert saved["extra"]["mostly_non_latin_captions"] == 1
    assert 0 <= saved["extra"]["int8_deviation"]["max"] < 0.1
    assert saved["params"] == {"quantize": True, "max_tokens": 128}
    table = pq.read_table(sorted(Path(info.path).glob("part-*.parquet"))).to_pylist()
    by_id = {r["sample_id"]: r for r in table}
    assert by_id["s00001"]["error"] == "no caption" and by_id["s00001"]["p_hateful"] is None
    assert all(0 <= by_id["s00000"][c] <= 1 for c in ("p_hateful", "p_targeted", "p_aggressive"))
