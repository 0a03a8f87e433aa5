"""``reviewer flag --engine ray``: the same flaggers on Ray Data, one model per actor.

The local runner scores a run's parts one after another in one process. On a
multi-GPU node or a cluster the same parts are scored by a pool of Ray actors:
a Ray dataset of the missing part indexes goes through ``map_batches`` with a
class-based UDF, so each actor loads the model once and then scores part after
part; each part is read from the run's ``todo.parquet`` (only the row groups it
spans) and written with :meth:`RunDir.write_part`, exactly as the local engine
writes it. Resume and completion therefore stay the runner's: an interrupted Ray
job leaves whole parts behind and the next invocation (local or Ray) skips them.

On a cluster the audit folder must be on a filesystem every node mounts at the
same path (NFS, Lustre, a FUSE bucket mount): actors read ``todo.parquet`` and
write parts there. Connect to a running cluster with ``RAY_ADDRESS``; without it
a local Ray instance is started with every core and GPU of this machine.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from reviewer.flaggers.base import Flagger
from reviewer.store.runs import RunDir

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class AuditRef:
    """A picklable stand-in for an :class:`~reviewer.audit.Audit` (reopened in the actor)."""

    root: str


def ensure_ray() -> Any:
    """Import Ray and connect: ``RAY_ADDRESS`` if set, else an already running instance,
    else a new local one (no dashboard: it costs seconds and a port)."""
    import ray

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS") or None
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    # The CLI draws its own progress bar; Ray Data's bars and INFO lines would interleave.
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return ray


def read_slice(todo: Path, index: int, size: int, columns: list[str] | None) -> pa.Table:
    """Rows ``[index * size, (index + 1) * size)`` of ``todo.parquet``, reading only the
    row groups that hold them (the same slices as :meth:`RunDir.iter_todo`)."""
    file = pq.ParquetFile(todo)
    start, stop = index * size, (index + 1) * size
    groups, first_row, offset = [], None, 0
    for g in range(file.metadata.num_row_groups):
        rows = file.metadata.row_group(g).num_rows
        if offset < stop and offset + rows > start:
            groups.append(g)
            first_row = offset if first_row is None else first_row
        offset += rows
    if not groups:
        return file.schema_arrow.empty_table().select(columns or file.schema_arrow.names)
    table = file.read_row_groups(groups, columns=columns)
    assert first_row is not None
    return table.slice(start - first_row, stop - start)


def portable(flagger: Flagger) -> Flagger:
    """A shallow copy safe to ship to actors: audits become :class:`AuditRef`."""
    from reviewer.audit import Audit

    clone = flagger.__class__.__new__(flagger.__class__)
    raw: Any = flagger.__getstate__()
    state: dict[str, Any] = dict(raw or {})
    for key, value in state.items():
        if isinstance(value, Audit):
            state[key] = AuditRef(str(value.root))
    clone.__dict__.update(state)
    return clone


def _restore(flagger: Flagger) -> Flagger:
    """Reopen audits in the actor process."""
    from reviewer.audit import Audit

    for key, value in list(vars(flagger).items()):
        if isinstance(value, AuditRef):
            setattr(flagger, key, Audit.open(value.root))
    return flagger


class PartScorer:
    """The Ray UDF: prepares the flagger once per actor, then scores part indexes."""

    def __init__(self, flagger: Flagger, run_path: str) -> None:
        self.flagger = _restore(flagger)
        self.flagger.prepare()
        self.run = RunDir.load(Path(run_path))
        self.columns = list(self.flagger.inputs)
        self.calls = 0

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from reviewer.flaggers.runner import conform_scores

        size = self.run.info.batch_size
        rows = []
        for index in batch["index"].tolist():
            todo = read_slice(self.run.todo_path, int(index), size, self.columns)
            scores = conform_scores(self.flagger, todo, self.flagger.score_batch(todo))
            self.run.write_part(int(index), scores)
            rows.append(todo.num_rows)
        self.calls += 1
        extra = json.dumps(self.flagger.extra_provenance(), default=str)
        n = len(rows)
        return {
            "index": batch["index"],
            "rows": np.array(rows, dtype=np.int64),
            "extra": np.array([extra] * n, dtype=object),
            "actor": np.array([os.getpid()] * n, dtype=np.int64),
            "calls": np.array([self.calls] * n, dtype=np.int64),
        }


def pool_size(gpus: float, cpus: float, wants_gpu: bool, actors: int | None) -> tuple[int, float]:
    """How many actors, and GPUs per actor: one actor per GPU when the flagger uses
    GPUs and the cluster has them, else one per CPU core (each actor runs torch on
    one thread by default under Ray)."""
    if wants_gpu and gpus >= 1:
        return actors or int(gpus), 1.0
    return actors or max(1, int(cpus)), 0.0


def run_on_ray(
    flagger: Flagger, run: RunDir, progress: Progress | None = None, actors: int | None = None
) -> None:
    """Score every missing part of ``run`` on Ray; the runner then checks and completes it.

    Args:
        flagger: A prepared or unprepared flagger (it is copied to each actor).
        run: The locked run folder (``todo.parquet`` written).
        progress: ``progress(done_rows, total_rows)``.
        actors: Actor pool size; default ``REVIEWER_RAY_ACTORS``, else one per GPU
            (when the flagger's device is ``cuda``/``auto`` and GPUs exist) or one per CPU.
    """
    ray = ensure_ray()
    total = run.info.todo_rows
    missing = sorted(set(range(run.part_count())) - run.done_parts())
    done = run.info.todo_rows - sum(_part_rows(run, i) for i in missing)
    if progress:
        progress(done, total)
    if not missing:
        return
    resources = ray.cluster_resources()
    _check_gpus(flagger, resources.get("GPU", 0))
    actors = actors or int(os.environ.get("REVIEWER_RAY_ACTORS", "0")) or None
    wants_gpu = str(getattr(flagger, "device", "cpu")).startswith(("cuda", "auto"))
    count, gpus = pool_size(resources.get("GPU", 0), resources.get("CPU", 1), wants_gpu, actors)
    count = min(count, len(missing))
    dataset = ray.data.from_items([{"index": i} for i in missing]).map_batches(
        PartScorer,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=count),
        num_gpus=gpus,
        num_cpus=1,
        fn_constructor_kwargs={"flagger": portable(flagger), "run_path": str(run.path)},
    )
    extras: dict[int, tuple[int, str]] = {}
    try:
        for row in dataset.iter_rows():
            done += int(row["rows"])
            actor, calls = int(row["actor"]), int(row["calls"])
            if calls >= extras.get(actor, (0, ""))[0]:  # rows may arrive out of order
                extras[actor] = (calls, str(row["extra"]))
            if progress:
                progress(done, total)
    except (ReviewerError, KeyboardInterrupt):
        raise
    except Exception as exc:  # Ray wraps what actors raise; surface user errors as such
        raise _user_error(exc) from exc
    _keep_actor_provenance(flagger, extras, count, gpus)


def _user_error(exc: BaseException) -> ReviewerError:
    """The :class:`ReviewerError` an actor raised (Ray wraps it), or a one-line summary."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ReviewerError):
            return current
        seen.add(id(current))
        nested = getattr(current, "cause", None)
        current = nested if isinstance(nested, BaseException) else current.__cause__
    lines = [line for line in str(exc).splitlines() if line.strip()]
    summary = lines[-1] if lines else type(exc).__name__
    return ReviewerError(
        f"Ray job failed: {summary[:300]}", "see the Ray logs (/tmp/ray/session_latest/logs)"
    )


def _check_gpus(flagger: Flagger, gpus_in_cluster: float) -> None:
    """A GPU asked for explicitly but absent from the whole cluster is a user error."""
    device = str(getattr(flagger, "device", "cpu")).lower()
    if device.startswith("cuda") and gpus_in_cluster < 1:
        raise ReviewerError(
            f"--device {device}: the Ray cluster has no GPU",
            "use --device auto or cpu, or add GPU nodes to the cluster",
        )


def _part_rows(run: RunDir, index: int) -> int:
    return max(0, min(run.info.batch_size, run.info.todo_rows - index * run.info.batch_size))


def _keep_actor_provenance(
    flagger: Flagger, extras: dict[int, tuple[int, str]], actors: int, gpus: float
) -> None:
    """Make the driver's flagger report what its actors learnt (their extra provenance),
    since the runner stores ``flagger.extra_provenance()`` when it completes the run.
    Integer counts are summed over actors; everything else is kept per actor."""
    per_actor = [json.loads(text) for _, (_, text) in sorted(extras.items())]
    merged: dict[str, Any] = {"ray": {"actors": actors, "gpus_per_actor": gpus}}
    for info in per_actor:
        for key, value in info.items():
            if isinstance(value, int) and not isinstance(value, bool):
                merged[key] = merged.get(key, 0) + value
    merged["per_actor"] = per_actor
    setattr(flagger, "extra_provenance", lambda: merged)  # noqa: B010
