"""The direct path: which parquet files DuckDB can ingest on its own, and doing it.

A LAION parquet file holds plain columns (text, integers, floats) whose
normalisation (:mod:`reviewer.ingest.normalize`) SQL can do identically, so
such a file skips the staged path's read into Python and staging copy and is
published by one ``INSERT … SELECT … FROM read_parquet`` (see
:mod:`reviewer.store.direct_ingest`). Everything else keeps the staged path:
CSV/TSV, tar shards and sidecar folders, files with images to link, nested or
binary or date columns, numbers stored as text (parsed the Python way), float
ids. A file DuckDB refuses half-way (invalid UTF-8, corruption, a clashing extra
column) is rolled back and staged, so its messages and repairs are the staged
path's.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.ingest.columns import ColumnMap
from reviewer.ingest.normalize import (
    BLANK_CAPTION,
    FLOAT_CANONICAL,
    LONG_CAPTION,
    LONG_CAPTION_BYTES,
    STRING_CANONICAL,
    Warnings,
)
from reviewer.ingest.sources import Unit
from reviewer.store.direct_ingest import DirectColumn, DirectFile, DirectResult

ENABLED = True
"""Take the direct path where it applies (tests switch it off to compare both paths)."""


def plan(unit: Unit, cmap: ColumnMap, dataset: str, id_prefix: str) -> DirectFile | None:
    """The direct plan of a unit, or ``None`` when only the staged path does it right."""
    if not ENABLED or unit.kind != "parquet" or unit.image_root is not None:
        return None
    if cmap.image_path is not None:
        return None
    try:
        schema = pq.read_schema(unit.path)
    except (pa.ArrowException, OSError):
        return None  # the staged path's reader says what is wrong
    lowered = [n.lower() for n in schema.names]
    if len(set(lowered)) != len(lowered) or "file_row_number" in lowered:
        return None  # DuckDB would rename or shadow a column
    columns: list[DirectColumn] = []
    for f in schema:
        typ = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        target = cmap.canonical.get(f.name) or cmap.extra.get(f.name)
        kind = None if target is None else _kind(target, f.name in cmap.canonical, typ)
        if target is None or kind is None:
            return None
        columns.append(DirectColumn(f.name, target, kind))
    if not any(c.target == "text" and c.kind == "text" for c in columns):
        return None
    id_kind = next((c.kind for c in columns if c.target == "sample_id"), None)
    return DirectFile(
        str(unit.path), dataset, id_prefix, tuple(columns), id_kind, LONG_CAPTION_BYTES
    )


def _kind(target: str, canonical: bool, typ: pa.DataType) -> str | None:
    """How a column of Arrow type ``typ`` becomes ``target``, as ``normalize`` does it."""
    is_int = pa.types.is_integer(typ)
    is_float = pa.types.is_float32(typ) or pa.types.is_float64(typ)
    is_text = pa.types.is_string(typ) or pa.types.is_large_string(typ)
    if not canonical:
        if pa.types.is_boolean(typ):
            return "boolean"
        return "bigint" if is_int else "double" if is_float else "text" if is_text else None
    if target in STRING_CANONICAL:
        return "text" if is_text else "int_text" if is_int else None
    if target in FLOAT_CANONICAL:
        return "double" if is_int or is_float else None
    return "bigint" if is_int else "float_bigint" if is_float else None


def count_warnings(result: DirectResult, warnings: Warnings) -> None:
    """The caption warnings of a directly published file, as ``normalize`` words them."""
    p = result.profile
    found = [(p.first_blank, BLANK_CAPTION, p.blank), (p.first_long, LONG_CAPTION, p.long)]
    for first, kind, n in sorted((f for f in found if f[2]), key=lambda f: f[0] or 0):
        warnings.add(kind, n, f"source_row {first}")


class RowProgress:
    """Turns DuckDB's percent-done into rows for the ingest's rows-based progress.

    Args:
        total: The file's rows.
        advance: Called with the rows done since the last call.
    """

    def __init__(self, total: int, advance: Callable[[int], None]) -> None:
        self.total = total
        self.advance = advance
        self.shown = 0

    def __call__(self, percent: int, _: int | None) -> None:
        rows = min(self.total, self.total * max(0, percent) // 100)
        if rows > self.shown:
            self.advance(rows - self.shown)
            self.shown = rows

    def finish(self) -> None:
        """Report the rows not reported yet."""
        self(100, 100)

    def take_back(self) -> None:
        """Undo what was reported (the attempt was rolled back; the staged path recounts)."""
        if self.shown:
            self.advance(-self.shown)
            self.shown = 0
