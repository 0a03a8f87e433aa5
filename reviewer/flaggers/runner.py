"""Running a flagger over an audit: work list, score in parts, resume, mark complete.

The runner is the only place that decides when scores become usable. It never
holds the audit's DuckDB file for long: a model flagger's work list is a
snapshot taken in one short read, after which it works only on files in the run
folder; a streaming rule flagger (keyword, NSFW field) records row ranges and
reads its parts through one read-only connection that yields to any writer.
Either way reviewers and ``reviewer stats`` keep working while a flag job runs. Any failure (an
exception, Ctrl-C, a killed process) leaves the run ``failed`` or ``running``
with its finished parts on disk; the next invocation with the same flagger and
parameters resumes it, and flags only ever read runs marked ``complete``.

Engines: ``local`` scores part by part in this process. ``ray`` hands the run
folder to ``reviewer.flaggers.ray_engine.run_on_ray(flagger, run, progress=...)``,
which must write the missing ``part-NNNNN.parquet`` files (slices of
``run.info.batch_size`` rows of ``todo.parquet``, see :meth:`RunDir.iter_todo`)
through :meth:`RunDir.write_part`; this runner then checks and completes the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from reviewer.flaggers.base import Flagger
from reviewer.flaggers.registry import create_flagger
from reviewer.store.runs import COMPLETE, FAILED, RUNNING, RunDir, RunInfo

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.store import Store

Progress = Callable[[int, int | None], None]
ENGINES = ("local", "ray")


def build_flagger(audit: Audit, name: str, **options: Any) -> Flagger:
    """Create a flagger for this audit (each flagger reads its own settings from it)."""
    return create_flagger(name, audit=audit, settings=audit.settings, **options)


def run_flagger(
    audit: Audit,
    flagger: str | Flagger,
    *,
    progress: Progress | None = None,
    batch_size: int | None = None,
    engine: str = "local",
    resume: bool = True,
    datasets: list[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    **options: Any,
) -> RunInfo:
    """Score every sample of the audit with one flagger and record a complete run.

    Args:
        audit: The open audit.
        flagger: A registry name (``keyword``, ``nsfw-field``, ``hate``, ``clip``) or an
            instance.
        progress: ``progress(done_rows, total_rows)`` callback.
        batch_size: Rows per part; default the flagger's ``batch_size``. A resumed run
            keeps the batch size it started with (parts are slices of the work list).
        engine: ``local`` or ``ray``.
        resume: Continue an unfinished run with the same provenance when there is one.
        datasets: Score only samples of these datasets.
        sample: Score a seeded simple random sample of this many samples (e.g. hate
            speech on a laptop); rates estimated from it are unbiased for the whole.
        seed: Seed of ``sample``; the same seed draws the same samples.
        **options: Flagger options (``mode``, ``keywords``, ``model``, ``device`` ...).

    Returns:
        The provenance of the completed run.

    Raises:
        ReviewerError: Unknown flagger or engine, flagger unavailable, bad options.
    """
    if engine not in ENGINES:
        raise ReviewerError(f"unknown engine '{engine}'", f"use one of {', '.join(ENGINES)}")
    if isinstance(flagger, str):
        flagger = build_flagger(audit, flagger, **options)
    reason = flagger.unavailable()
    if reason:
        raise ReviewerError(f"flagger '{flagger.name}' is not available: {reason}")
    if batch_size is not None and batch_size < 1:
        raise ReviewerError(f"--batch-size {batch_size}: must be at least 1")
    selection = _selection(datasets, sample, seed)
    if engine == "local":
        # On Ray each actor loads its own model; the driver (often a head node
        # without a GPU) must not load one for nothing.
        flagger.prepare()
    streams = flagger.streams and engine == "local"
    size = batch_size or flagger.batch_size
    run = _open_run(audit, flagger, size, resume, selection, streams)
    try:
        run.info.engine = engine
        run.mark(RUNNING)
        if engine == "ray":
            _score_on_ray(flagger, run, progress)
        elif run.reads_audit:
            _score_from_audit(audit.store, flagger, run, progress)
        else:
            _score_locally(flagger, run, progress)
        _complete(flagger, run)
    except BaseException as exc:
        if run.reads_audit and not run.done_parts():
            # Row ranges and no part scored: nothing worth keeping (the work list is
            # remade in one short read), so a damaged or busy audit leaves no trace.
            shutil.rmtree(run.path, ignore_errors=True)
            raise
        message = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or repr(exc)
        run.mark(FAILED, error=message.splitlines()[0][:500])
        raise
    finally:
        run.unlock()
    return run.info


def _selection(datasets: list[str] | None, sample: int | None, seed: int) -> dict[str, Any]:
    """The subset of samples a run scores, as stored in its provenance (empty: all)."""
    selection: dict[str, Any] = {}
    if datasets:
        selection["datasets"] = sorted(set(datasets))
    if sample is not None:
        if sample < 1:
            raise ReviewerError(f"--sample {sample}: must be at least 1")
        selection.update(sample=int(sample), seed=int(seed))
    return selection


def _open_run(
    audit: Audit,
    flagger: Flagger,
    batch_size: int,
    resume: bool,
    selection: dict[str, Any],
    streams: bool,
) -> RunDir:
    """Resume a matching unfinished run, or make the work list of a new one.

    A streaming flagger's work list names rows of the audit (``rows.parquet``);
    any other flagger's is a snapshot of its inputs (``todo.parquet``).
    """
    scores_dir = audit.paths.scores
    provenance = flagger.provenance()
    if selection:
        provenance["selection"] = selection
    run = RunDir.find_resumable(scores_dir, provenance, snapshot=not streams) if resume else None
    if run is not None:
        return run
    run = RunDir.create(scores_dir, provenance, batch_size)
    if not run.try_lock():  # pragma: no cover - a fresh folder is ours alone
        raise ReviewerError(f"{run.path}: locked by another process")
    datasets, sample = selection.get("datasets"), selection.get("sample")
    seed = int(selection.get("seed", 0))
    try:
        if streams:
            audit.store.work_lists.check_sample_columns(list(flagger.inputs))
            ranges = audit.store.work_lists.ranges(datasets, sample, seed)
            run.info.todo_rows = run.write_rows(ranges)
        else:
            run.info.todo_rows = audit.store.work_lists.snapshot(
                list(flagger.inputs), run.todo_path, datasets, sample, seed
            )
        run.save()
    except BaseException:
        # No work list, no scores: the folder holds nothing worth keeping (an unknown
        # --dataset, a full disk), and marking it failed would need disk space too.
        run.unlock()
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    return run


def _score_locally(flagger: Flagger, run: RunDir, progress: Progress | None) -> None:
    """Score each missing part in this process, writing it atomically."""
    total = run.info.todo_rows
    done_parts = run.done_parts()
    done_rows = 0
    if progress:
        progress(0, total)
    for index, batch in run.iter_todo(columns=list(flagger.inputs)):
        if index not in done_parts:
            scores = conform_scores(flagger, batch, flagger.score_batch(batch))
            run.write_part(index, scores)
        done_rows += batch.num_rows
        if progress:
            progress(done_rows, total)


def _score_from_audit(
    store: Store, flagger: Flagger, run: RunDir, progress: Progress | None
) -> None:
    """Score each missing part from rows read straight out of the audit.

    The parts are read through one read-only connection that is given up as soon
    as a writer (ingest, ``sample``) waits for DuckDB's lock, between parts or
    while a part is scored (:class:`~reviewer.store.connection.HeldReader`). The next
    part is read while this one is scored (DuckDB and the matching both run outside
    the GIL), so memory holds two.
    """
    total, size = run.info.todo_rows, run.info.batch_size
    missing = sorted(set(range(run.part_count())) - run.done_parts())
    done_rows = total - sum(min(size, total - i * size) for i in missing)
    if progress:
        progress(done_rows, total)

    held = store.work_lists.reader()

    def read(index: int) -> pa.Table:
        return store.work_lists.read_rows(list(flagger.inputs), run.part_ranges(index), held)

    with held, ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(read, missing[0]) if missing else None
        for position, index in enumerate(missing):
            assert pending is not None
            batch = pending.result()
            following = missing[position + 1] if position + 1 < len(missing) else None
            pending = reader.submit(read, following) if following is not None else None
            expected = min(size, total - index * size)
            if batch.num_rows != expected:
                raise ReviewerError(
                    f"run {run.info.run_id}: part {index} found {batch.num_rows} of its "
                    f"{expected} samples in the audit (rows were removed since the run began)",
                    "flag again with --no-resume",
                )
            run.write_part(index, conform_scores(flagger, batch, flagger.score_batch(batch)))
            done_rows += batch.num_rows
            if progress:
                progress(done_rows, total)


def _score_on_ray(flagger: Flagger, run: RunDir, progress: Progress | None) -> None:
    try:
        from reviewer.flaggers import ray_engine
    except ImportError as exc:
        raise ReviewerError(
            f"the Ray engine is not available ({exc})",
            "install the extra: pip install 'reviewer[ray]'",
        ) from exc
    ray_engine.run_on_ray(flagger, run, progress=progress)


def conform_scores(flagger: Flagger, batch: pa.Table, scores: pa.Table) -> pa.Table:
    """Check a flagger's output against its contract and cast it to the part schema.

    Keeps ``sample_id``, the declared score columns and an optional ``error`` column.

    Raises:
        ReviewerError: rows or columns do not match the input batch (a flagger bug
            must not be recorded as scores).
    """
    missing = [c for c in ("sample_id", *flagger.columns) if c not in scores.column_names]
    if missing:
        raise ReviewerError(f"flagger '{flagger.name}' returned no column(s) {missing}")
    if scores.num_rows != batch.num_rows:
        raise ReviewerError(
            f"flagger '{flagger.name}' returned {scores.num_rows} rows for {batch.num_rows}"
        )
    schema = flagger.output_schema()
    if "error" in scores.column_names:
        schema = schema.append(pa.field("error", pa.string()))
    return scores.select(schema.names).cast(schema)


def _complete(flagger: Flagger, run: RunDir) -> None:
    """Verify every part is present and row counts add up, then mark the run complete."""
    expected = run.part_count()
    done = run.done_parts()
    missing = sorted(set(range(expected)) - done)
    if missing:
        raise ReviewerError(
            f"run {run.info.run_id}: parts {missing[:5]} missing", "run the same command again"
        )
    rows = unscored = 0
    for path in run.part_files():
        table = pq.ParquetFile(path).read(columns=list(flagger.columns))
        rows += table.num_rows
        unscored += _all_null_rows(table)
    if rows != run.info.todo_rows:
        raise ReviewerError(
            f"run {run.info.run_id}: {rows} scored rows for {run.info.todo_rows} samples",
            "delete the run folder and flag again",
        )
    run.info.parts = expected
    run.info.scored_rows = rows - unscored
    run.info.unscored_rows = unscored
    run.info.extra.update(flagger.extra_provenance())
    run.mark(COMPLETE)


def _all_null_rows(table: pa.Table) -> int:
    """Rows whose every score column is NULL (not scored: empty caption, unreadable image)."""
    if table.num_rows == 0 or table.num_columns == 0:
        return 0
    mask = pc.is_null(table.column(0))
    for column in table.columns[1:]:
        mask = pc.and_(mask, pc.is_null(column))
    return int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)
