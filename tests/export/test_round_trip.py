"""An exported parquet can be ingested as a new audit, keeping ids, captions and labels."""

from __future__ import annotations

from pathlib import Path

from reviewer.audit import Audit
from tests.conftest import Cli
from tests.export.conftest import CAPTIONS
from tests.export.helpers import by_id, read_rows, run
from tests.export.test_consensus_and_filters import EXPECTED_MAJORITY

LABEL_COLUMNS = [
    f"{c}_{s}"
    for c in ("nsfw", "hate", "privacy", "other")
    for s in ("verdict", "n_reviewers", "agreement")
]


def _ingest(tmp_path: Path, source: Path, cli: Cli) -> Audit:
    target = tmp_path / "again"
    Audit.init(target).close()
    res = cli("ingest", target, source, "--dataset", "again")
    assert res.code == 0, res
    return Audit.open(target)


def test_export_then_ingest_keeps_ids_captions_and_labels(
    fx: Audit, tmp_path: Path, cli: Cli
) -> None:
    exported = by_id(read_rows(run(fx, tmp_path, name="all.parquet").path))
    again = _ingest(tmp_path, tmp_path / "all.parquet", cli)
    try:
        rows = again.store.samples.get(sorted(exported))
        assert rows.keys() == exported.keys() == EXPECTED_MAJORITY.keys()
        for sid, row in rows.items():
            assert row["text"].encode("utf-8") == exported[sid]["text"].encode("utf-8"), sid
            assert row["url"] == exported[sid]["url"]
            for col in LABEL_COLUMNS:
                assert row[col] == exported[sid][col], (sid, col)
            assert row["flag_keyword"] == exported[sid]["flag_keyword"]
        assert len(rows["s00008"]["text"]) == len(CAPTIONS["s00008"])
        assert rows["s00002"]["text"] == CAPTIONS["s00002"]
        assert rows["s00000"]["nsfw_verdict"] == "confirm"
    finally:
        again.close()


def test_re_export_keeps_old_labels_beside_new_ones(fx: Audit, tmp_path: Path, cli: Cli) -> None:
    run(fx, tmp_path, name="all.parquet")
    again = _ingest(tmp_path, tmp_path / "all.parquet", cli)
    try:
        rows = by_id(read_rows(run(again, tmp_path, name="second.parquet").path))
        assert rows["s00000"]["src_nsfw_verdict"] == "confirm"
        assert rows["s00000"]["nsfw_verdict"] is None
        # No flagger ran on the new audit, so the old flag column keeps its name.
        assert rows["s00000"]["flag_keyword"] is True
    finally:
        again.close()
