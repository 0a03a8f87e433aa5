"""`reviewer labels import`: all rows or none, bad rows named, provenance kept, stats use them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.sampling import SampleSpec, draw_plan
from reviewer.stats.audit_stats import compute_stats


@pytest.fixture
def hundred(audit: Audit, add_samples, make_rows) -> Audit:  # type: ignore[no-untyped-def]
    add_samples(make_rows(100))
    return audit


def _csv(path: Path, rows: list[str], sep: str = ",") -> Path:
    path.write_text("\n".join(r.replace(",", sep) for r in rows) + "\n", encoding="utf-8")
    return path


def test_csv_import_records_events_with_provenance(hundred: Audit, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "studio.csv", [
        "sample_id,reviewer,category,verdict,created_at,note",
        "s00000,lee,nsfw,confirm,2024-05-01T12:00:00Z,from label studio",
        "s00001,lee,nsfw,Reject,,",
        "s00002,kim,hate,escalate,2024-05-02 08:00:00,",
    ])
    ran = cli("labels", "import", hundred.root, path)
    assert ran.code == 0, ran.err
    assert "imported 3 decision(s)" in ran.out and "import:studio.csv" in ran.out
    events = hundred.labels.events().to_pylist()
    assert [(e["sample_id"], e["verdict"], e["queue"]) for e in events] == [
        ("s00000", "confirm", "import:studio.csv"), ("s00001", "reject", "import:studio.csv"),
        ("s00002", "escalate", "import:studio.csv")]
    assert events[0]["created_at"].startswith("2024-05-01T12:00:00")
    assert events[0]["note"] == "from label studio"
    assert "s00002" in hundred.labels.quarantined_ids()


@pytest.mark.parametrize(("rows", "message"), [
    (["sample_id,reviewer,verdict", "s00000,lee,confirm"], "missing column(s) category"),
    (["sample_id,reviewer,category,verdict", "s00000,lee,nsfw,confirm",
      "s00001,lee,nsfw,maybe"], "row 2: unknown verdict 'maybe'"),
    (["sample_id,reviewer,category,verdict", "s00000,lee,gore,confirm"],
     "row 1: unknown category 'gore'"),
    (["sample_id,reviewer,category,verdict", "s00000,lee,nsfw,confirm",
      "nope,lee,nsfw,reject", "s00003,lee,nsfw,reject"],
     "1 sample id(s) not in the audit, first row 2"),
    (["sample_id,reviewer,category,verdict", "s00000,lee,nsfw,confirm",
      "s00001,lee,nsfw,reject", "s00000,lee,nsfw,reject"], "rows 1 and 3: the same sample"),
    (["sample_id,reviewer,category,verdict,created_at", "s00000,lee,nsfw,confirm,yesterday"],
     "row 1: created_at 'yesterday'"),
    (["sample_id,reviewer,category,verdict", "s00000,,nsfw,confirm"], "row 1: no reviewer"),
])
def test_bad_rows_import_nothing(hundred: Audit, cli, tmp_path, rows, message) -> None:  # type: ignore[no-untyped-def]
    ran = cli("labels", "import", hundred.root, _csv(tmp_path / "bad.csv", rows))
    assert ran.code != 0
    assert ran.err.startswith("error: ") and message in ran.err, ran.err
    assert "Traceback" not in ran.err and len(ran.err.strip().splitlines()) == 1
    assert hundred.labels.events().num_rows == 0


def test_jsonl_with_mixed_types_is_refused(hundred: Audit, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"sample_id": "s00000", "reviewer": "lee", "category": "nsfw",'
                    ' "verdict": "confirm"}\n{"sample_id": 5.5, "reviewer": "lee",'
                    ' "category": "nsfw", "verdict": [1]}\n', encoding="utf-8")
    ran = cli("labels", "import", hundred.root, path)
    assert ran.code != 0 and ran.err.startswith("error: ")
    assert hundred.labels.events().num_rows == 0


def test_parquet_and_tsv_imports_count_in_the_plans_statistics(  # type: ignore[no-untyped-def]
    hundred: Audit, cli, tmp_path
) -> None:
    draw_plan(hundred, SampleSpec("p", strata=("nsfw",), per_stratum=10, seed=4))
    queue = hundred.store.plans.queue_sample_ids("p")
    pq.write_table(pa.table({
        "sample_id": queue, "reviewer": ["lee"] * len(queue), "category": ["nsfw"] * len(queue),
        "verdict": ["confirm" if i % 2 else "reject" for i in range(len(queue))],
    }), tmp_path / "prodigy.parquet")
    ran = cli("labels", "import", hundred.root, tmp_path / "prodigy.parquet", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["decisions"] == len(queue)
    outside = [f"s{i:05d}" for i in range(100) if f"s{i:05d}" not in set(queue)][:5]
    tsv = _csv(tmp_path / "sheet.tsv", ["sample_id,reviewer,category,verdict",
                                         *[f"{s},kim,nsfw,confirm" for s in outside]], "\t")
    assert cli("labels", "import", hundred.root, tsv).code == 0
    stats = compute_stats(hundred, plan="p")
    assert stats.design["plan_labels"] == len(queue)
    assert stats.design["other_labels"] == 5
    assert stats.prevalence is not None and stats.prevalence["labelled"] == len(queue)
