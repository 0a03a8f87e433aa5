"""Flag runs: resume after a crash, provenance, and never blocking other processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import sample_rows

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.flaggers.registry import canonical_name, create_flagger
from reviewer.flaggers.runner import run_flagger
from reviewer.store.runs import COMPLETE, FAILED, RunDir, list_runs

Build = Callable[[list[dict[str, Any]]], Audit]


def hate_scores(n: int, value: float) -> dict[str, dict[str, Any]]:
    return {
        f"s{i:05d}": {"p_hateful": value, "p_targeted": 0.0, "p_aggressive": 0.0} for i in range(n)
    }


def part_ids(run: RunDir) -> list[str]:
    return [
        sid
        for path in run.part_files()
        for sid in pq.read_table(path).column("sample_id").to_pylist()
    ]


def test_interrupted_run_resumes_without_duplicates_or_gaps(
    audit_with: Build, scripted_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))  # batch size 4 -> parts of 4, 4, 2
    crashing = scripted_hate(hate_scores(10, 0.9), fail_after=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_flagger(audit, crashing)
    [failed] = list_runs(audit.paths.scores, "hate")
    assert failed.info.status == FAILED
    assert failed.done_parts() == {0, 1}
    # an incomplete run never feeds flags
    assert audit.store.flags.table(audit.settings).num_rows == 0

    resumed = scripted_hate(hate_scores(10, 0.9))
    info = run_flagger(audit, resumed)
    assert info.run_id == failed.info.run_id
    assert info.status == COMPLETE
    assert resumed.scored_ids == ["s00008", "s00009"]  # only the missing part was scored
    ids = part_ids(RunDir.load(failed.path))
    assert sorted(ids) == [f"s{i:05d}" for i in range(10)]  # each sample exactly once
    assert len(audit.store.flags.flagged_ids(audit.settings, ["hate_hateful"])) == 10


def test_interrupted_newer_run_does_not_replace_a_complete_one(
    audit_with: Build, scripted_hate: Any
) -> None:
    audit = audit_with(sample_rows(6))
    run_flagger(audit, scripted_hate(hate_scores(6, 0.9), tag="old"))
    with pytest.raises(RuntimeError):
        run_flagger(audit, scripted_hate(hate_scores(6, 0.1), tag="new", fail_after=1))
    flags = audit.store.flags.table(audit.settings, flag_names=["hate_hateful"])
    assert flags.column("score").to_pylist() == [0.9] * 6


def test_run_json_records_provenance(audit_with: Build) -> None:
    audit = audit_with(sample_rows(3))
    info = run_flagger(audit, "keyword", mode="word")
    data = json.loads((audit.paths.scores / "keyword" / info.run_id / "run.json").read_text())
    assert data["flagger"] == "keyword"
    assert data["params"]["mode"] == "word"
    assert data["status"] == COMPLETE
    assert data["todo_rows"] == 3 and data["scored_rows"] == 3
    assert data["started"] and data["finished"]


def test_complete_run_is_not_resumed_but_redone(audit_with: Build) -> None:
    audit = audit_with(sample_rows(3))
    first = run_flagger(audit, "keyword")
    second = run_flagger(audit, "keyword")
    assert first.run_id != second.run_id
    assert audit.store.flags.latest_runs()["keyword"].run_id == second.run_id


def test_null_scores_are_counted_as_unscored(audit_with: Build, scripted_hate: Any) -> None:
    audit = audit_with(sample_rows(5))
    scores = hate_scores(3, 0.7)  # s00003 and s00004 get NULL: e.g. empty captions
    info = run_flagger(audit, scripted_hate(scores))
    assert (info.scored_rows, info.unscored_rows) == (3, 2)
    hateful = audit.store.flags.table(audit.settings, flag_names=["hate_any"])
    flagged = dict(
        zip(
            hateful.column("sample_id").to_pylist(),
            hateful.column("flagged").to_pylist(),
            strict=True,
        )
    )
    assert flagged["s00004"] is False and flagged["s00000"] is True


def test_wrong_flagger_output_is_never_recorded(audit_with: Build, scripted_hate: Any) -> None:
    class Short(scripted_hate):
        def score_batch(self, batch: pa.Table) -> pa.Table:
            return super().score_batch(batch).slice(1)

    audit = audit_with(sample_rows(4))
    with pytest.raises(ReviewerError, match="returned 3 rows for 4"):
        run_flagger(audit, Short(hate_scores(4, 0.5)))
    assert audit.store.flags.latest_runs() == {}


def test_unknown_flagger_lists_the_known_ones(audit_with: Build) -> None:
    audit = audit_with(sample_rows(1))
    with pytest.raises(ReviewerError) as err:
        run_flagger(audit, "sentiment")
    assert "keyword, nsfw-field, hate, clip" in err.value.one_line()
    assert canonical_name("NSFW-Field") == "nsfw_field"
    with pytest.raises(ReviewerError, match="engine"):
        run_flagger(audit, "keyword", engine="spark")


def test_registry_passes_only_declared_options() -> None:
    flagger = create_flagger("keyword", mode="word", device="cuda", model=None)
    assert flagger.params()["mode"] == "word"


def test_empty_audit_gives_a_complete_empty_run(audit: Audit) -> None:
    info = run_flagger(audit, "nsfw-field")
    assert (info.status, info.todo_rows, info.parts) == (COMPLETE, 0, 0)
    assert audit.store.flags.table(audit.settings).num_rows == 0


OPEN_FOR_WRITING = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])  # no retry: fails at once if anyone holds the file
print(conn.execute("SELECT count(*) FROM samples").fetchone()[0])
conn.close()
"""

OPEN_FOR_WRITING_AS_REVIEWER = """
import sys
from pathlib import Path
from reviewer.store.connection import ConnectionFactory
factory = ConnectionFactory(Path(sys.argv[1]), busy_timeout_s=30)
with factory.open(write=True) as conn:  # retries, saying it waits (cache/duckdb_writers)
    print(conn.execute("SELECT count(*) FROM samples").fetchone()[0])
"""


def writes_mid_run(
    audit: Audit, scripted_hate: Any, script: str, streams: bool, batch_size: int
) -> list[str]:
    """Run a flag job whose every part first waits for another process to open the audit
    for writing (``script``); what that process printed, part by part."""
    seen: list[str] = []

    class Probe(scripted_hate):
        def score_batch(self, batch: pa.Table) -> pa.Table:
            done = subprocess.run(
                [sys.executable, "-c", script, str(audit.paths.database)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            seen.append(done.stdout.strip() or done.stderr)
            return super().score_batch(batch)

    Probe.streams = streams
    run_flagger(audit, Probe(hate_scores(8, 0.2)), batch_size=batch_size)
    return seen


def test_model_flag_job_does_not_hold_the_audit(audit_with: Build, scripted_hate: Any) -> None:
    """A snapshot run holds nothing: even a plain DuckDB client can write mid-run."""
    audit = audit_with(sample_rows(8))
    assert writes_mid_run(audit, scripted_hate, OPEN_FOR_WRITING, False, 4) == ["8", "8"]


def test_streaming_flag_job_lets_a_waiting_writer_in(audit_with: Build, scripted_hate: Any) -> None:
    """A row-range run keeps one read connection, but gives it up to a waiting writer,
    also while it is idle (here: scoring a part, the next one already read)."""
    audit = audit_with(sample_rows(8))
    seen = writes_mid_run(audit, scripted_hate, OPEN_FOR_WRITING_AS_REVIEWER, True, 3)
    assert seen == ["8", "8", "8"]
    writers = audit.paths.database.parent / "cache" / "duckdb_writers"
    assert not writers.exists() or not any(writers.iterdir())  # each writer removed its marker


def test_resume_keeps_the_runs_batch_size_and_reports_progress(
    audit_with: Build, scripted_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))
    with pytest.raises(RuntimeError):
        run_flagger(audit, scripted_hate(hate_scores(10, 0.9), fail_after=1))
    seen: list[tuple[int, int | None]] = []
    info = run_flagger(
        audit,
        scripted_hate(hate_scores(10, 0.9)),
        batch_size=3,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert info.batch_size == 4 and info.parts == 3  # slices must mean the same rows
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    statuses = [r.status for r in audit.store.flags.runs("hate")]
    assert statuses == [COMPLETE]


def test_a_run_locked_by_another_process_is_not_resumed(
    audit_with: Build, scripted_hate: Any
) -> None:
    audit = audit_with(sample_rows(6))
    with pytest.raises(RuntimeError):
        run_flagger(audit, scripted_hate(hate_scores(6, 0.9), fail_after=1))
    [crashed] = list_runs(audit.paths.scores, "hate")
    holder = RunDir.load(crashed.path)
    assert holder.try_lock()  # as if another process were still working on it
    try:
        info = run_flagger(audit, scripted_hate(hate_scores(6, 0.9)))
    finally:
        holder.unlock()
    assert info.run_id != crashed.info.run_id
    assert RunDir.load(crashed.path).info.status == FAILED


KILLED_MID_RUN = """
import os, signal, sys
import pyarrow as pa
from reviewer.audit import Audit
from reviewer.flaggers.base import Flagger
from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.runner import run_flagger

class Hate(Flagger):
    name = "hate"
    inputs = ("sample_id",)
    columns = SCORE_COLUMNS["hate"]
    batch_size = 4
    calls = 0

    def params(self):
        return {"tag": "a"}

    def score_batch(self, batch):
        if Hate.calls == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        Hate.calls += 1
        ids = batch.column("sample_id").to_pylist()
        zeros = [0.0] * len(ids)
        return pa.table({"sample_id": ids, "p_hateful": [0.9] * len(ids),
                         "p_targeted": zeros, "p_aggressive": zeros})

run_flagger(Audit.open(sys.argv[1]), Hate())
"""


def _killed_hate_run(audit: Audit, script: str) -> RunDir:
    """Run SCRIPT (a hate run that SIGKILLs itself mid-run) on AUDIT; its one run folder."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(audit.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    [killed] = list_runs(audit.paths.scores, "hate")
    return killed


def test_kill_9_mid_run_loses_only_the_unfinished_part(
    audit_with: Build, scripted_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))
    killed = _killed_hate_run(audit, KILLED_MID_RUN)
    assert killed.info.status == "running"  # never marked complete
    assert killed.done_parts() == {0, 1}
    assert audit.store.flags.latest_runs() == {}
    resumed = scripted_hate(hate_scores(10, 0.9))
    info = run_flagger(audit, resumed)
    assert info.run_id == killed.info.run_id
    assert resumed.scored_ids == ["s00008", "s00009"]
    assert sorted(part_ids(RunDir.load(killed.path))) == [f"s{i:05d}" for i in range(10)]


def test_seeded_sample_and_dataset_selection(audit_with: Build) -> None:
    audit = audit_with(sample_rows(20, dataset="a") + sample_rows(5, dataset="b", text="sex"))
    first = run_flagger(audit, "keyword", sample=6, seed=1)
    again = run_flagger(audit, "keyword", sample=6, seed=1)
    other = run_flagger(audit, "keyword", sample=6, seed=2)

    def ids(info: Any) -> list[str]:
        return sorted(part_ids(RunDir.load(audit.paths.scores / "keyword" / info.run_id)))

    assert first.todo_rows == 6 and first.selection == {"sample": 6, "seed": 1}
    assert ids(first) == ids(again)  # same seed, same samples
    assert ids(first) != ids(other)
    assert first.identity != run_flagger(audit, "keyword").identity  # never mixed with a full run
    only_b = run_flagger(audit, "keyword", datasets=["b"])
    assert only_b.todo_rows == 5
    assert audit.store.flags.counts(audit.settings).to_pylist()[0]["flagged"] == 5
    with pytest.raises(ReviewerError, match="unknown dataset"):
        run_flagger(audit, "keyword", datasets=["c"])
    with pytest.raises(ReviewerError, match="--sample 0"):
        run_flagger(audit, "keyword", sample=0)


def test_a_run_whose_snapshot_failed_is_not_resumed(
    audit_with: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = audit_with(sample_rows(3))

    def busy(*args: Any, **kwargs: Any) -> int:
        raise ReviewerError("audit busy")

    with monkeypatch.context() as patch:
        patch.setattr(audit.store.work_lists, "ranges", busy)
        with pytest.raises(ReviewerError, match="busy"):
            run_flagger(audit, "keyword")
    # A run without a work list holds nothing: its folder is removed, not left "failed".
    assert list_runs(audit.paths.scores, "keyword") == []
    info = run_flagger(audit, "keyword")
    assert info.status == COMPLETE and info.todo_rows == 3


def test_streaming_run_copies_nothing_and_resumes_without_duplicates_or_gaps(
    audit_with: Build, streaming_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))  # batch size 4 -> parts of 4, 4, 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_flagger(audit, streaming_hate(hate_scores(10, 0.9), fail_after=2))
    [failed] = list_runs(audit.paths.scores, "hate")
    assert failed.rows_path.exists() and not failed.todo_path.exists()
    assert pq.read_table(failed.rows_path).num_rows == 1  # one range names all 10 rows
    assert failed.done_parts() == {0, 1}
    resumed = streaming_hate(hate_scores(10, 0.9))
    info = run_flagger(audit, resumed)
    assert info.run_id == failed.info.run_id and info.status == COMPLETE
    assert len(resumed.scored_ids) == 2  # only the missing part was read and scored
    assert sorted(part_ids(RunDir.load(failed.path))) == [f"s{i:05d}" for i in range(10)]


def test_streaming_run_over_scattered_rows_scores_each_selected_row_once(
    audit_with: Build,
) -> None:
    def rows(n: int, prefix: str, dataset: str, source: str) -> list[dict[str, Any]]:
        made = sample_rows(n, dataset=dataset, source_file=source)
        return [{**r, "sample_id": f"{prefix}{i}"} for i, r in enumerate(made)]

    audit = audit_with(rows(7, "a", "a", "a.parquet") + rows(5, "b", "b", "b.parquet"))
    audit_with(rows(6, "t", "a", "a.parquet"))  # dataset a: two islands of one file
    info = run_flagger(audit, "keyword", datasets=["a"], batch_size=3)
    run = RunDir.load(audit.paths.scores / "keyword" / info.run_id)
    assert pq.read_table(run.rows_path).num_rows == 2
    expected = [f"a{i}" for i in range(7)] + [f"t{i}" for i in range(6)]
    assert sorted(part_ids(run)) == sorted(expected)
    sampled = run_flagger(audit, "keyword", sample=9, seed=3, batch_size=2)
    picked = part_ids(RunDir.load(audit.paths.scores / "keyword" / sampled.run_id))
    assert len(picked) == len(set(picked)) == 9


def test_streaming_run_refuses_to_resume_when_rows_vanished(
    audit_with: Build, streaming_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))
    with pytest.raises(RuntimeError):
        run_flagger(audit, streaming_hate(hate_scores(10, 0.9), fail_after=1))
    with audit.store.connect(write=True) as conn:
        conn.execute("DELETE FROM samples WHERE sample_id = 's00009'")
    with pytest.raises(ReviewerError, match="rows were removed"):
        run_flagger(audit, streaming_hate(hate_scores(10, 0.9)))
    assert audit.store.flags.latest_runs() == {}


KILLED_STREAMING = KILLED_MID_RUN.replace(
    "    batch_size = 4\n", "    batch_size = 4\n    streams = True\n"
)


def test_kill_9_mid_streaming_run_loses_only_the_unfinished_part(
    audit_with: Build, streaming_hate: Any
) -> None:
    audit = audit_with(sample_rows(10))
    assert "streams = True" in KILLED_STREAMING
    killed = _killed_hate_run(audit, KILLED_STREAMING)
    assert killed.rows_path.exists() and killed.done_parts() == {0, 1}
    resumed = streaming_hate(hate_scores(10, 0.9), tag="a")
    info = run_flagger(audit, resumed)
    assert info.run_id == killed.info.run_id
    assert sorted(resumed.scored_ids) == ["s00008", "s00009"]
    assert sorted(part_ids(RunDir.load(killed.path))) == [f"s{i:05d}" for i in range(10)]
