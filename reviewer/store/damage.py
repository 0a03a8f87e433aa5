"""Damaged files, full disks and read-only folders, told as one line with what to do.

DuckDB reports these as exceptions whose text is all one has: a checksum that does
not match (a damaged block of ``audit.duckdb``), "No space left on device", a
parquet file without its footer (a damaged score part). :func:`explain_duckdb_error`
turns such an exception into a :class:`ReviewerError` that names the file and the
way to recover; anything it does not recognise stays a bug with its traceback.
The same checks, run on purpose over every file, make ``reviewer doctor``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path

from reviewer.errors import ReviewerError, disk_full

_CORRUPT_MARKERS = ("corrupt database file", "checksum", "not a valid duckdb database")
_DISK_FULL_MARKERS = ("no space left on device", "disk is full", "disk quota exceeded")
_READ_ONLY_MARKERS = ("read-only file system", "permission denied")
_PARQUET_FILE = re.compile(r"""['"]?(/[^'"\n]*?\.parquet)['"]?""")

DOCTOR_HINT = "run `reviewer doctor {root}` to check every file"


def explain_duckdb_error(
    exc: BaseException, database: Path | None, scores_dir: Path | None = None
) -> ReviewerError | None:
    """The user-facing error for a DuckDB exception, or ``None`` when it is not one of
    ours to explain (a bug keeps its traceback)."""
    text = str(exc)
    lower = text.lower()
    root = database.parent if database is not None else Path(".")
    if type(exc).__name__ == "OutOfMemoryException":  # a query that cannot spill enough
        return ReviewerError(
            f"{root}: DuckDB ran out of memory ({_first_line(text)})",
            'raise [database] memory_limit in reviewer.toml (e.g. "1GB")',
        )
    if any(marker in lower for marker in _DISK_FULL_MARKERS):
        return disk_full(str(database) if database is not None else "")
    if any(marker in lower for marker in _READ_ONLY_MARKERS):
        return ReviewerError(
            f"{root}: cannot write here ({_first_line(text)})",
            "the audit folder is read-only: use a writable copy for ingest, flag, sample and"
            " review (info, stats and report work on this one)",
        )
    part = _damaged_part(exc, text, scores_dir)
    if part is not None:
        return damaged_part_error(part, root)
    if any(marker in lower for marker in _CORRUPT_MARKERS) and database is not None:
        return damaged_database_error(database, _first_line(text))
    return None


def damaged_database_error(database: Path, detail: str) -> ReviewerError:
    """``audit.duckdb`` is damaged: restore it; labels and scores live in other files."""
    return ReviewerError(
        f"{database}: the audit database is damaged ({detail})",
        f"restore audit.duckdb from a backup (labels/ and scores/ are separate files and are"
        f" kept); {DOCTOR_HINT.format(root=database.parent)}",
    )


def damaged_part_error(part: Path, root: Path) -> ReviewerError:
    """A score part is unreadable: a new flag run replaces the damaged one."""
    flagger = part.parent.parent.name.replace("_", "-")
    return ReviewerError(
        f"{part}: a score file is damaged",
        f"run `reviewer flag {root} --flagger {flagger} --no-resume` (the new run replaces"
        f" run {part.parent.name}); {DOCTOR_HINT.format(root=root)}",
    )


def damaged_labels_error(path: Path, detail: str) -> ReviewerError:
    """``labels.sqlite`` is damaged: nothing may be added to it until it is restored."""
    return ReviewerError(
        f"{path}: the label store is damaged ({detail})",
        "restore labels/labels.sqlite from a backup, or recover what is readable with"
        f" `sqlite3 {path.name} .recover`; {DOCTOR_HINT.format(root=path.parent.parent)}"
        " (samples, scores and plans are not affected)",
    )


_UNNAMED_READ_ERRORS = frozenset(
    {"Error", "InvalidInputException", "IOException", "InternalException", "SerializationException"}
)
"""DuckDB error classes a damaged parquet file raises; a parser or binder error (a typo in
``audit.sql(...)``) never sends us reading every score part."""


def _damaged_part(exc: BaseException, text: str, scores_dir: Path | None) -> Path | None:
    """The score part an error names, or, when it names none, the first unreadable part
    of the newest complete runs (DuckDB says "don't know what type" without a file)."""
    for match in _PARQUET_FILE.finditer(text):
        candidate = Path(match.group(1))
        if scores_dir is not None and scores_dir in candidate.parents:
            return candidate
    if scores_dir is None or type(exc).__name__ not in _UNNAMED_READ_ERRORS:
        return None
    from reviewer.store.runs import latest_complete

    parts = (p for run in latest_complete(scores_dir).values() for p in run.part_files())
    return next(iter(unreadable_parquet(parts)), None)


def unreadable_parquet(paths: Iterable[Path]) -> list[Path]:
    """The parquet files among ``paths`` that cannot be read whole (footer and data)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = []
    for path in paths:
        try:
            pq.read_table(path)
        except (OSError, pa.ArrowException):
            bad.append(path)
    return bad


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def scan_database(database: Path) -> tuple[dict[str, int], str | None]:
    """Read every column of every table of ``audit.duckdb``, so each block's checksum is
    verified: ``(rows per table, None)``, or what was found damaged.

    DuckDB checks a block's checksum when it loads it; a count alone may be answered
    from metadata, so every column's values are touched.
    """
    import duckdb

    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(database), read_only=True) as conn:
            tables = [str(r[0]) for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
            ).fetchall()]
            for table in tables:
                ident = '"' + table.replace('"', '""') + '"'
                row = conn.execute(
                    f"SELECT count(*), max(length(COLUMNS(*)::VARCHAR)) FROM {ident}"
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
    except duckdb.Error as exc:
        return counts, _first_line(str(exc))
    return counts, None


def image_references(database: Path) -> list[tuple[str, str, str]] | None:
    """``(sample_id, "kind:root path", member)`` of every sample whose image is stored
    locally (root ``""`` when its root is unknown); ``None`` when the database is unreadable."""
    import duckdb

    with contextlib.suppress(duckdb.Error), duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT s.sample_id, coalesce(r.path, ''), coalesce(r.kind, ''),"
            " substr(s.image_ref, strpos(s.image_ref, ':') + 1)"
            " FROM samples s LEFT JOIN image_roots r"
            " ON r.root_id = TRY_CAST(split_part(s.image_ref, ':', 1) AS INTEGER)"
            " WHERE s.image_ref IS NOT NULL ORDER BY s.sample_id"
        ).fetchall()
        return [(str(s), f"{kind}:{path}" if path else "", str(m)) for s, path, kind, m in rows]
    return None
