"""``reviewer doctor``: check every file of an audit and say what to do about each problem.

A command that meets a damaged file stops with one line naming it. The doctor
looks on purpose, at everything, without changing a byte: the settings, every
block of ``audit.duckdb`` (DuckDB verifies a block's checksum as it reads it),
``labels.sqlite`` (SQLite's ``PRAGMA quick_check``), every score part of every
run (read whole with Arrow) and every local image a sample points to.
"""

from __future__ import annotations

import tarfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import NotAnAuditError, ReviewerError, ReviewerWarning
from reviewer.store import damage
from reviewer.store.labels import LabelStore
from reviewer.store.runs import COMPLETE, list_runs


def _problem(part: str, error: ReviewerError) -> Finding:
    """A problem finding from the error a command would raise (its file named once)."""
    _, sep, rest = error.message.partition(": ")
    hint = error.hint.split("; run `reviewer doctor")[0]  # we are the doctor
    return Finding(part, False, rest if sep else error.message, hint)


@dataclass(frozen=True)
class Finding:
    """The state of one part of the audit: ``ok``, or a problem and what to do."""

    part: str
    ok: bool
    detail: str
    hint: str = ""


Check = Callable[[Path], Iterator[Finding]]


def diagnose(root: Path | str) -> list[Finding]:
    """Every check over the audit folder ``root``, in the order a user would repair."""
    root = Path(root).expanduser().resolve()
    if not (root / "audit.duckdb").exists():
        raise NotAnAuditError(f"{root}: not an audit (no audit.duckdb)", "give the audit folder")
    checks: tuple[Check, ...] = (_settings, _database, _labels, _scores, _images)
    return [finding for check in checks for finding in check(root)]


def _settings(root: Path) -> Iterator[Finding]:
    try:
        Settings.load(root / "reviewer.toml")
    except ReviewerError as exc:
        yield Finding("reviewer.toml", False, exc.message, exc.hint)
        return
    yield Finding("reviewer.toml", True, "settings valid")


def _database(root: Path) -> Iterator[Finding]:
    database = root / "audit.duckdb"
    counts, problem = damage.scan_database(database)
    if problem is not None:
        yield _problem("audit.duckdb", damage.damaged_database_error(database, problem))
        return
    samples = counts.get("samples", 0)
    yield Finding("audit.duckdb", True, f"{len(counts)} tables read whole, {samples:,} samples")


def _labels(root: Path) -> Iterator[Finding]:
    path = root / "labels" / "labels.sqlite"
    if not path.exists():
        yield Finding("labels/labels.sqlite", True, "no label file yet (no decisions)")
        return
    try:
        store = LabelStore(path, read_only=True)
    except ReviewerError as exc:
        yield _problem("labels/labels.sqlite", exc)
        return
    try:
        findings = store.check()
    finally:
        store.close()
    if findings:
        error = damage.damaged_labels_error(path, "; ".join(findings[:3]))
        yield _problem("labels/labels.sqlite", error)
    else:
        yield Finding("labels/labels.sqlite", True, "quick_check ok")


def _scores(root: Path) -> Iterator[Finding]:
    scores = root / "scores"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReviewerWarning)
        runs = list_runs(scores)
    for warning in caught:
        yield Finding("scores", False, str(warning.message))
    parts = [part for run in runs if run.info.status == COMPLETE for part in run.part_files()]
    bad = damage.unreadable_parquet(parts)
    for part in bad:
        yield _problem(str(part.relative_to(root)), damage.damaged_part_error(part, root))
    complete = sum(run.info.status == COMPLETE for run in runs)
    if not bad:
        yield Finding("scores", True, f"{len(parts)} parts of {complete} complete runs readable")


def _images(root: Path) -> Iterator[Finding]:
    refs = damage.image_references(root / "audit.duckdb")
    if refs is None:
        yield Finding("images", False, "not checked: audit.duckdb cannot be read",
                      "repair audit.duckdb first")
        return
    missing: list[str] = []
    shards: dict[Path, set[str] | None] = {}
    for sample_id, where, member in refs:
        if not _present(where, member, shards):
            missing.append(sample_id)
    if missing:
        shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        yield Finding(
            "images", False, f"{len(missing):,} of {len(refs):,} local images missing ({shown})",
            "put the image folders or shards back where they were ingested from, or ingest"
            " again with --images PATH; reviewers see these items as 'no image'",
        )
    else:
        yield Finding("images", True, f"{len(refs):,} local images present")


def _present(where: str, member: str, shards: dict[Path, set[str] | None]) -> bool:
    """Whether ``member`` exists under a ``dir:`` root, inside a ``tar:`` shard, or is a row
    of a ``parquet:`` shard (img2dataset's parquet output; ``reviewer images --check``
    also decodes each image and checks its url record)."""
    kind, _, path = where.partition(":")
    if not path:
        return False
    base = Path(path)
    if kind == "parquet":
        return base.is_file() and member.isdigit()
    if kind != "tar":
        return (base / member).is_file()
    if base not in shards:
        try:
            with tarfile.open(base) as shard:
                shards[base] = set(shard.getnames())
        except (OSError, tarfile.TarError):
            shards[base] = None
    names = shards[base]
    return names is not None and member in names
