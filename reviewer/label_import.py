"""``reviewer labels import``: decisions made in another tool become decision events.

A Label Studio or Prodigy export mapped to ``sample_id, reviewer, category, verdict``
(optional ``created_at``, ``note``), or a spreadsheet, is read whole (CSV, TSV,
JSONL or parquet), checked whole, and written in one label-store transaction: a
file with one bad row imports nothing, and the error names the row (the N-th data
row; the header is not counted, so in a CSV it is line N + 1). Each event keeps its
provenance in the queue name ``import:<file name>``, and statistics treat the labels
like any other (scoped to a plan when their items are in one).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reviewer.audit import Audit
from reviewer.errors import ReviewerError, first_line
from reviewer.store.labels import VERDICTS, Decision

REQUIRED = ("sample_id", "reviewer", "category", "verdict")
OPTIONAL = ("created_at", "note")
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".parquet": "parquet"}


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    file: str
    queue: str
    decisions: int
    reviewers: list[str]
    categories: list[str]


def import_labels(audit: Audit, path: Path) -> ImportResult:
    """Check every row of ``path`` and record them all, or raise and record nothing."""
    table = _read(path)
    columns = _columns(table, path)
    rows = table.num_rows
    if rows == 0:
        raise ReviewerError(f"{path}: no rows", "the file needs one row per decision")
    _check_missing(columns)
    verdicts = [str(v).strip().lower() for v in columns["verdict"]]
    _check_values(verdicts, VERDICTS, "verdict")
    _check_values([str(c).strip() for c in columns["category"]],
                  audit.settings.review.categories, "category")
    _check_duplicates(columns)
    unknown = audit.store.samples.unknown(pa.array(columns["sample_id"], pa.string()))
    if unknown:
        raise ReviewerError(
            f"{len(unknown):,} sample id(s) not in the audit, first {_rows(unknown)}:"
            f" '{columns['sample_id'][unknown[0]]}'",
            "map the ids to this audit's sample_id (see `reviewer export`), then import again",
        )
    times = [_timestamp(v, i) for i, v in enumerate(columns.get("created_at") or [None] * rows)]
    notes = columns.get("note") or [None] * rows
    queue = f"import:{path.name}"
    decisions = [
        Decision(str(sid), str(rev).strip(), str(cat).strip(), verdict,
                 note=None if note is None else str(note), queue=queue)
        for sid, rev, cat, verdict, note in zip(columns["sample_id"], columns["reviewer"],
                                                columns["category"], verdicts, notes,
                                                strict=True)
    ]
    count = audit.labels.import_decisions(decisions, times)
    return ImportResult(str(path), queue, count, sorted({d.reviewer for d in decisions}),
                        sorted({d.category for d in decisions}))


def _read(path: Path) -> pa.Table:
    """The file as an Arrow table (every CSV/TSV cell as text)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ReviewerError(f"{path}: unknown labels format",
                            "use a .csv, .tsv, .jsonl or .parquet file")
    if not path.is_file():
        raise ReviewerError(f"{path}: no such file", "check the path")
    try:
        if kind in ("csv", "tsv"):
            return _read_delimited(path, "," if kind == "csv" else "\t")
        if kind == "jsonl":
            import pyarrow.json as pj

            return pj.read_json(path)
        import pyarrow.parquet as pq

        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        detail = first_line(exc, 160)
        raise ReviewerError(f"{path}: cannot read the labels ({detail})",
                            "check the file's format; a column must hold one type") from exc


def _read_delimited(path: Path, delimiter: str) -> pa.Table:
    import pyarrow.csv as pacsv

    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True),
    )


def _columns(table: pa.Table, path: Path) -> dict[str, list[object]]:
    """The required and optional columns as Python lists; text or integer ids only."""
    names = [n.strip().lower() for n in table.column_names]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ReviewerError(
            f"{path}: missing column(s) {', '.join(missing)}",
            f"the file needs {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)});"
            f" it has {', '.join(table.column_names) or 'none'}",
        )
    out: dict[str, list[object]] = {}
    for wanted in (*REQUIRED, *OPTIONAL):
        if wanted not in names:
            continue
        column = table.column(names.index(wanted))
        if pa.types.is_integer(column.type) and wanted in ("sample_id", "reviewer"):
            column = pc.cast(column, pa.string())
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                or pa.types.is_null(column.type)
                or (wanted == "created_at" and pa.types.is_timestamp(column.type))):
            raise ReviewerError(f"{path}: column {wanted} holds {column.type}, not text",
                                "write the column as text")
        out[wanted] = column.to_pylist()
    return out


def _rows(positions: list[int]) -> str:
    """``row 4`` or ``rows 4, 9, 12 …`` (1-based data rows)."""
    shown = ", ".join(str(p + 1) for p in positions[:3])
    return f"row{'s' if len(positions) > 1 else ''} {shown}{' …' if len(positions) > 3 else ''}"


def _check_missing(columns: dict[str, list[object]]) -> None:
    for name in REQUIRED:
        empty = [i for i, v in enumerate(columns[name]) if v is None or not str(v).strip()]
        if empty:
            raise ReviewerError(f"{_rows(empty)}: no {name}", f"every row needs a {name}")


def _check_values(values: list[str], allowed: tuple[str, ...] | list[str], name: str) -> None:
    bad = [i for i, v in enumerate(values) if v not in allowed]
    if bad:
        raise ReviewerError(f"{_rows(bad)}: unknown {name} '{values[bad[0]]}'",
                            f"use one of {', '.join(allowed)}")


def _check_duplicates(columns: dict[str, list[object]]) -> None:
    """Refuse two rows for the same (sample, reviewer, category): which one is meant?"""
    seen: dict[tuple[str, str, str], int] = {}
    for i, key in enumerate(zip(columns["sample_id"], columns["reviewer"],
                                columns["category"], strict=True)):
        norm = (str(key[0]), str(key[1]).strip(), str(key[2]).strip())
        if norm in seen:
            raise ReviewerError(
                f"rows {seen[norm] + 1} and {i + 1}: the same sample, reviewer and category"
                f" twice ('{norm[0]}', '{norm[1]}', '{norm[2]}')",
                "keep one decision per sample, reviewer and category",
            )
        seen[norm] = i


def _timestamp(value: object, position: int) -> str | None:
    """An ISO 8601 time in UTC (naive times are taken as UTC), or ``None`` when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ReviewerError(f"row {position + 1}: created_at '{value}' is not a date and time",
                            "use ISO 8601, e.g. 2024-05-01T12:30:00Z") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")
