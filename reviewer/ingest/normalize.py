"""Turning one source batch into canonical ``samples`` columns, counting what is odd.

Row-level problems never stop an ingest: they are repaired or kept and counted,
with the first offending row named, so the user can judge the file. Captions are
stored byte-for-byte; only bytes that are not valid UTF-8 are replaced (by
U+FFFD, visibly) because the database cannot hold them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.ingest.columns import ColumnMap
from reviewer.store.schema import CANONICAL_COLUMNS

LONG_CAPTION_BYTES = 65_536
"""Captions longer than this are kept as they are but counted: a likely scraping artefact."""


@dataclass
class Warnings:
    """Counted row-level problems of one file, with the first example of each kind."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, n: int, example: str) -> None:
        """Count ``n`` rows with problem ``kind``; remember the first example."""
        if n <= 0:
            return
        self.counts[kind] = self.counts.get(kind, 0) + n
        self.examples.setdefault(kind, example)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """One human-readable line per kind of problem."""
        return [f"{kind}: {n:,} (first: {self.examples[kind]})" for kind, n in self.counts.items()]


@dataclass
class BatchContext:
    """Where a batch comes from: what ingest records beside the source columns."""

    dataset: str
    source_file: str
    id_prefix: str
    first_row: int


STRING_CANONICAL = ("sample_id", "url", "text", "license", "nsfw", "hash")
FLOAT_CANONICAL = ("punsafe", "pwatermark", "similarity")
INT_CANONICAL = ("width", "height")
BLANK_CAPTION = "NULL or empty caption (row kept)"
LONG_CAPTION = f"caption over {LONG_CAPTION_BYTES // 1024} KiB (kept byte-for-byte)"


def normalize(
    batch: pa.RecordBatch | pa.Table,
    cmap: ColumnMap,
    ctx: BatchContext,
    warnings: Warnings,
    image_ref: pa.Array | None = None,
) -> pa.Table:
    """Map one batch onto canonical columns (plus extras) and add ingest columns."""
    n = batch.num_rows
    out: dict[str, pa.Array] = {}
    for name in batch.schema.names:
        col = _combine(batch.column(name))
        if name in cmap.canonical:
            target = cmap.canonical[name]
            out[target] = _canonical(target, col, name, ctx, warnings)
        else:
            out[cmap.extra[name]] = _extra(col, name, ctx, warnings)
    _check_captions(out["text"], ctx, warnings)
    out["sample_id"] = _ids(out.get("sample_id"), n, ctx)
    out["dataset"] = pa.repeat(pa.scalar(ctx.dataset, pa.string()), n)
    out["source_file"] = pa.repeat(pa.scalar(ctx.source_file, pa.string()), n)
    out["source_row"] = pa.array(np.arange(ctx.first_row, ctx.first_row + n, dtype=np.int64))
    out["image_ref"] = image_ref if image_ref is not None else pa.nulls(n, pa.string())
    for name, typ in CANONICAL_COLUMNS.items():
        if name not in out:
            out[name] = pa.nulls(n, _ARROW_TYPES[typ])
    return pa.table(out)


_ARROW_TYPES = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BIGINT": pa.int64()}


def _combine(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def _where(ctx: BatchContext, index: int) -> str:
    """Named like the ``source_row`` column (0-based), so the row can be looked up."""
    return f"source_row {ctx.first_row + index}"


def _canonical(
    target: str, col: pa.Array, source: str, ctx: BatchContext, warnings: Warnings
) -> pa.Array:
    if target in STRING_CANONICAL:
        return _as_string(col, source, ctx, warnings)
    if target in FLOAT_CANONICAL:
        return _as_number(col, pa.float64(), source, ctx, warnings)
    return _as_number(col, pa.int64(), source, ctx, warnings)


def _as_string(col: pa.Array, source: str, ctx: BatchContext, warnings: Warnings) -> pa.Array:
    """A string array; numbers become their text, invalid UTF-8 is replaced and counted."""
    typ = col.type
    if pa.types.is_null(typ):
        return pa.nulls(len(col), pa.string())
    if pa.types.is_floating(typ) and _integral(col):
        col = pc.cast(col, pa.int64(), safe=False)
        typ = col.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        raw = col.view(pa.large_binary() if pa.types.is_large_string(typ) else pa.binary())
    elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        raw = col
    else:
        return pc.cast(col, pa.string())
    try:
        return pc.cast(raw, pa.string())
    except pa.ArrowInvalid:
        return _repair_utf8(raw, source, ctx, warnings)


def _integral(col: pa.Array) -> bool:
    values = col.drop_null().to_numpy(zero_copy_only=False)
    return bool(np.all(np.isfinite(values) & (values == np.floor(values))))


def _repair_utf8(raw: pa.Array, source: str, ctx: BatchContext, warnings: Warnings) -> pa.Array:
    fixed: list[str | None] = []
    bad = 0
    first = -1
    for i, value in enumerate(raw.to_pylist()):
        if value is None:
            fixed.append(None)
            continue
        try:
            fixed.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            fixed.append(value.decode("utf-8", errors="replace"))
            bad += 1
            first = i if first < 0 else first
    warnings.add(f"invalid UTF-8 in {source} (bytes replaced by U+FFFD)", bad, _where(ctx, first))
    return pa.array(fixed, pa.string())


def _as_number(
    col: pa.Array, typ: pa.DataType, source: str, ctx: BatchContext, warnings: Warnings
) -> pa.Array:
    """A float64 or int64 array; values that are not numbers become NULL and are counted."""
    if pa.types.is_null(col.type):
        return pa.nulls(len(col), typ)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        if typ == pa.int64() and pa.types.is_floating(col.type):
            finite = pc.is_finite(col)
            col = pc.if_else(finite, col, pa.scalar(None, col.type))
        return pc.cast(col, typ, safe=False)
    values = _as_string(col, source, ctx, warnings).to_pylist()
    parsed: list[Any] = []
    bad = 0
    first = -1
    for i, value in enumerate(values):
        number = _parse_number(value)
        if number is None and value not in (None, ""):
            bad += 1
            first = i if first < 0 else first
        parsed.append(int(number) if number is not None and typ == pa.int64() else number)
    warnings.add(f"not a number in {source} (kept as NULL)", bad, _where(ctx, first))
    return pa.array(parsed, typ)


def _parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _extra(col: pa.Array, source: str, ctx: BatchContext, warnings: Warnings) -> pa.Array:
    """Keep an extra column: simple types as they are, nested ones as JSON text."""
    typ = col.type
    if pa.types.is_null(typ):
        return pa.nulls(len(col), pa.string())
    if pa.types.is_integer(typ):
        return pc.cast(col, pa.int64())
    if pa.types.is_floating(typ):
        return pc.cast(col, pa.float64())
    if pa.types.is_boolean(typ):
        return col
    if pa.types.is_nested(typ):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in col.to_pylist()],
            pa.string(),
        )
    return _as_string(col, source, ctx, warnings)


def _check_captions(text: pa.Array, ctx: BatchContext, warnings: Warnings) -> None:
    """Count missing, empty and very long captions (kept as they are)."""
    missing = pc.or_kleene(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), ""))
    missing = pc.fill_null(missing, True)
    n_missing = pc.sum(missing).as_py() or 0
    if n_missing:
        first = pc.index(missing, True).as_py()
        warnings.add(BLANK_CAPTION, n_missing, _where(ctx, first))
    long = pc.fill_null(pc.greater(pc.binary_length(text), LONG_CAPTION_BYTES), False)
    n_long = pc.sum(long).as_py() or 0
    if n_long:
        first = pc.index(long, True).as_py()
        warnings.add(LONG_CAPTION, n_long, _where(ctx, first))


def _ids(ids: pa.Array | None, n: int, ctx: BatchContext) -> pa.Array:
    """Source ids where present; ``{dataset}:{file stem}:{row}`` where missing or empty."""
    generated = pc.binary_join_element_wise(
        pa.repeat(pa.scalar(ctx.id_prefix, pa.string()), n),
        pc.cast(pa.array(np.arange(ctx.first_row, ctx.first_row + n, dtype=np.int64)), pa.string()),
        ":",
    )
    if ids is None:
        return generated
    usable = pc.fill_null(pc.not_equal(ids, ""), False)
    return pc.if_else(usable, ids, generated)
