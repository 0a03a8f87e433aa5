"""(item, rater, label) triples, checked and encoded once for every agreement statistic.

Statistics never know where ratings come from: a reviewer's verdicts, another
tool's export, or a model treated as a rater (the CLIP NSFW field). Everything
arrives here as triples (a pyarrow table, a pandas DataFrame, a list of
tuples or dicts, or a CSV/parquet file), is checked for the mistakes people
make (missing columns, numbers mixed with text, an ordinal scale without an
order), and becomes integer codes plus the item-by-category count matrix that
the coefficients share. Duplicate (item, rater) pairs keep the last row, as
the label store keeps the latest decision; empty labels are missing data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.errors import ReviewerError, SchemaError

LEVELS = ("nominal", "ordinal", "interval")
ALIASES = {
    "item": ("item", "sample_id", "unit", "subject", "id"),
    "rater": ("rater", "reviewer", "coder", "annotator", "judge"),
    "label": ("label", "value", "verdict", "rating", "category", "tag"),
}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True, eq=False)
class Ratings:
    """Encoded ratings: one entry per (item, rater) decision that has a label.

    Attributes:
        item_index: Item code per rating (index into ``items``).
        rater_index: Rater code per rating (index into ``raters``).
        code: Category code per rating (index into ``categories``).
        items: Item identifiers as text.
        raters: Rater identifiers as text.
        categories: The scale, in order (given order, or numeric / alphabetical).
        numeric: Numeric value of each category (for interval α), or ``None`` for text.
        level: ``nominal``, ``ordinal`` or ``interval``.
        n_missing: Rows dropped because the label was empty.
        n_duplicates: Earlier rows dropped because the same rater rated the item again.
    """

    item_index: np.ndarray
    rater_index: np.ndarray
    code: np.ndarray
    items: list[str]
    raters: list[str]
    categories: list[Any]
    numeric: np.ndarray | None = None
    level: str = "nominal"
    n_missing: int = 0
    n_duplicates: int = 0

    @property
    def n_items(self) -> int:
        """Items with at least one label."""
        return len(self.items)

    @property
    def n_raters(self) -> int:
        """Raters with at least one label."""
        return len(self.raters)

    @property
    def n_ratings(self) -> int:
        """Labels kept (after dropping empty and duplicate rows)."""
        return int(self.code.size)

    @property
    def q(self) -> int:
        """Number of categories on the scale."""
        return len(self.categories)

    @cached_property
    def counts(self) -> np.ndarray:
        """Item × category matrix: how many raters put item i in category k."""
        flat = self.item_index * self.q + self.code
        return np.bincount(flat, minlength=self.n_items * self.q).reshape(self.n_items, self.q)

    @cached_property
    def per_item(self) -> np.ndarray:
        """Number of labels each item received."""
        return np.bincount(self.item_index, minlength=self.n_items)

    @property
    def n_single_rated(self) -> int:
        """Items only one rater labelled: no pair to compare, so pairwise statistics skip them."""
        return int((self.per_item == 1).sum())

    def pair_table(self, a: int = 0, b: int = 1) -> tuple[np.ndarray, int]:
        """The q × q table of rater ``a`` (rows) against rater ``b`` (columns).

        Returns:
            The table over items both rated, and how many items only one of them rated.
        """
        codes_a = np.full(self.n_items, -1)
        codes_b = np.full(self.n_items, -1)
        mask_a = self.rater_index == a
        mask_b = self.rater_index == b
        codes_a[self.item_index[mask_a]] = self.code[mask_a]
        codes_b[self.item_index[mask_b]] = self.code[mask_b]
        both = (codes_a >= 0) & (codes_b >= 0)
        either = (codes_a >= 0) | (codes_b >= 0)
        flat = codes_a[both] * self.q + codes_b[both]
        table = np.bincount(flat, minlength=self.q * self.q).reshape(self.q, self.q)
        return table, int(either.sum() - both.sum())


# Anything as_ratings accepts: Ratings, pyarrow Table, pandas DataFrame, list of tuples/dicts.
RatingsLike: TypeAlias = Any


def as_ratings(
    data: RatingsLike,
    *,
    item: str | None = None,
    rater: str | None = None,
    label: str | None = None,
    level: str = "nominal",
    order: Sequence[Any] | None = None,
) -> Ratings:
    """Check and encode triples from a table, DataFrame or list.

    Args:
        data: A :class:`Ratings` (returned unchanged), a pyarrow table, a pandas
            DataFrame, a list of ``(item, rater, label)`` tuples, or a list of dicts.
        item: Item column name (default: the first of ``item``, ``sample_id``, ``unit``...).
        rater: Rater column name (default: ``rater``, ``reviewer``, ``coder``...).
        label: Label column name (default: ``label``, ``value``, ``verdict``...).
        level: ``nominal``, ``ordinal`` or ``interval``: ordinal and interval need an
            order, from numeric labels or from ``order``.
        order: The categories from lowest to highest; labels outside it are an error.
            It also declares categories nobody used (which changes AC1 and PABAK).

    Raises:
        ReviewerError: Missing columns, mixed label types, no rows, unknown level,
            labels outside ``order``, text labels on an ordered scale without ``order``.
    """
    if isinstance(data, Ratings):
        return data
    if level not in LEVELS:
        raise ReviewerError(f"--level {level}: unknown level", f"use one of {', '.join(LEVELS)}")
    table = _to_table(data)
    names = _pick_columns(table, {"item": item, "rater": rater, "label": label})
    return _encode(table, names, level, order)


def _to_table(data: Any) -> pa.Table:
    """Any supported container as a pyarrow table."""
    if isinstance(data, pa.Table):
        return data
    if type(data).__module__.startswith("pandas"):
        return _safe_table(lambda: pa.Table.from_pandas(data, preserve_index=False))
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):
        return _safe_table(lambda: pa.Table.from_pylist(rows))
    if any(len(row) != 3 for row in rows):
        raise ReviewerError("ratings: every row must be (item, rater, label)")
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    return _safe_table(
        lambda: pa.table(
            {"item": list(columns[0]), "rater": list(columns[1]), "label": list(columns[2])}
        )
    )


def _safe_table(build: Any) -> pa.Table:
    """Build a table, turning Arrow's type errors into a user-facing message."""
    try:
        table: pa.Table = build()
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise ReviewerError(
            f"ratings: a column mixes value types ({exc})",
            "use one type per column: all numbers or all text",
        ) from exc
    return table


def _pick_columns(table: pa.Table, wanted: dict[str, str | None]) -> dict[str, str]:
    """Resolve the item, rater and label columns, case-insensitively, or say what is missing."""
    found = {name.lower(): name for name in table.column_names}
    names: dict[str, str] = {}
    missing: list[str] = []
    for role, given in wanted.items():
        candidates = (given,) if given else ALIASES[role]
        match = next((found[c.lower()] for c in candidates if c.lower() in found), None)
        if match is None:
            missing.append(f"{role} ({given or ' / '.join(ALIASES[role])})")
        else:
            names[role] = match
    if not missing and len(set(names.values())) < len(names):
        same = [role for role in names if list(names.values()).count(names[role]) > 1]
        raise SchemaError(
            f"ratings: {' and '.join(same)} are the same column '{names[same[0]]}'",
            "name different columns with --item, --rater and --label",
        )
    if missing:
        raise SchemaError(
            f"ratings: missing column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(table.column_names) or 'none'}",
            "name them with --item, --rater and --label",
        )
    return names


def _encode(
    table: pa.Table, names: dict[str, str], level: str, order: Sequence[Any] | None
) -> Ratings:
    """Drop empty labels, check types, encode items, raters and categories as integers."""
    if table.num_rows == 0:
        raise ReviewerError("ratings: no rows", "the file has a header but no ratings")
    labels = table.column(names["label"]).combine_chunks()
    for role in ("item", "rater"):
        if table.column(names[role]).null_count:
            raise ReviewerError(
                f"ratings: {table.column(names[role]).null_count} row(s) have an empty {role}",
                f"every row needs an {role} identifier",
            )
    keep = pc.is_valid(labels)
    n_missing = table.num_rows - int(pc.sum(keep).as_py() or 0)
    table = table.filter(keep)
    if table.num_rows == 0:
        raise ReviewerError("ratings: every label is empty", "fill the label column")
    items = _dictionary(table.column(names["item"]))
    raters = _dictionary(table.column(names["rater"]))
    label_column = table.column(names["label"]).combine_chunks()
    distinct, inverse, numeric = _label_values(label_column, names["label"])
    categories, code = _categories(distinct, inverse, numeric, level, order)
    item_index, rater_index, code, n_dup = _drop_duplicates(
        items[0], raters[0], code, len(raters[1])
    )
    item_index, item_names = _compact(item_index, items[1])
    rater_index, rater_names = _compact(rater_index, raters[1])
    numbers = np.asarray(categories, dtype=float) if numeric else None
    return Ratings(
        item_index,
        rater_index,
        code,
        item_names,
        rater_names,
        list(categories),
        numbers,
        level,
        n_missing,
        n_dup,
    )


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer codes and the distinct values (as text) of an identifier column."""
    encoded = pc.cast(column, pa.string()).combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [str(v) for v in encoded.dictionary.to_pylist()]


def _label_values(labels: pa.Array, name: str) -> tuple[list[Any], np.ndarray, bool]:
    """Distinct labels, each row's index into them, and whether they are numbers.

    Text that mixes numbers and words (``1``, ``yes``) is refused: it is almost always
    a broken export, and guessing would silently change the scale.
    """
    if pa.types.is_dictionary(labels.type):  # pandas categoricals, dictionary parquet columns
        labels = labels.dictionary_decode()
    if pa.types.is_boolean(labels.type):
        labels = pc.cast(labels, pa.int8())
    if pa.types.is_integer(labels.type) or pa.types.is_floating(labels.type):
        values = labels.to_numpy(zero_copy_only=False)
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise ReviewerError(
                f"ratings: label column '{name}' has NaN values", "leave them empty"
            )
        unique, inverse = np.unique(values, return_inverse=True)
        return list(unique.tolist()), inverse.astype(np.int64), True
    if not (pa.types.is_string(labels.type) or pa.types.is_large_string(labels.type)):
        raise ReviewerError(
            f"ratings: label column '{name}' has type {labels.type}", "use text or numbers"
        )
    encoded = pc.utf8_trim_whitespace(labels).dictionary_encode()
    distinct = [str(v) for v in encoded.dictionary.to_pylist()]
    numbers = [v for v in distinct if _NUMBER.match(v)]
    if numbers and len(numbers) < len(distinct):
        text = next(v for v in distinct if not _NUMBER.match(v))
        raise ReviewerError(
            f"ratings: label column '{name}' mixes numbers (e.g. {numbers[0]}) and text "
            f"(e.g. '{text}')",
            "use one type: all numbers or all text; leave missing labels empty",
        )
    return distinct, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), False


def _categories(
    distinct: list[Any],
    inverse: np.ndarray,
    numeric: bool,
    level: str,
    order: Sequence[Any] | None,
) -> tuple[list[Any], np.ndarray]:
    """The ordered scale and each rating's position on it."""
    seen = sorted(set(distinct))
    if order:
        scale: list[Any] = [_parse(v, numeric) for v in order]
        if len(set(scale)) != len(scale):
            raise ReviewerError(f"--order {','.join(map(str, order))}: a category appears twice")
        unknown = [v for v in seen if v not in set(scale)]
        if unknown:
            raise ReviewerError(
                f"ratings: label(s) {', '.join(map(str, unknown[:5]))} are not in --order "
                f"{','.join(map(str, order))}",
                "add them to --order or fix the labels",
            )
    elif numeric or level == "nominal":
        scale = seen
    else:
        raise ReviewerError(
            f"--level {level}: the labels are text ({', '.join(map(str, seen[:4]))}), "
            "so their order is unknown",
            "give the order lowest first, e.g. --order " + ",".join(map(str, seen[:3])),
        )
    position = {v: i for i, v in enumerate(scale)}
    lookup = np.array([position[v] for v in distinct], dtype=np.int64)
    return scale, lookup[inverse]


def _parse(value: Any, numeric: bool) -> Any:
    """A category from ``--order`` in the type of the labels."""
    if not numeric:
        return str(value).strip()
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ReviewerError(
            f"--order: '{value}' is not a number but the labels are numbers"
        ) from exc
    return int(number) if number.is_integer() else number


def _drop_duplicates(
    items: np.ndarray, raters: np.ndarray, code: np.ndarray, n_raters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Keep the last label of each (item, rater) pair, as the label store does."""
    key = items * max(n_raters, 1) + raters
    _, last_reversed = np.unique(key[::-1], return_index=True)
    keep = np.sort(key.size - 1 - last_reversed)
    return items[keep], raters[keep], code[keep], int(key.size - keep.size)


def _compact(index: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumber codes so only values still present remain (some rows were dropped)."""
    used, inverse = np.unique(index, return_inverse=True)
    return inverse.astype(np.int64), [names[i] for i in used]


def read_ratings(
    path: Path,
    *,
    item: str | None = None,
    rater: str | None = None,
    label: str | None = None,
    level: str = "nominal",
    order: Sequence[Any] | None = None,
) -> Ratings:
    """Read a CSV, TSV or parquet file of (item, rater, label) rows.

    Raises:
        ReviewerError: The file is missing, empty, unreadable or lacks the columns.
    """
    try:
        return as_ratings(
            load_table(path), item=item, rater=rater, label=label, level=level, order=order
        )
    except ReviewerError as exc:
        # as_ratings also serves in-memory data and says "ratings:"; a file has a name.
        if exc.message.startswith("ratings:"):
            exc.message = f"{path}:{exc.message.removeprefix('ratings:')}"
            exc.args = (exc.message,)
        raise


def load_table(path: Path) -> pa.Table:
    """The file as an Arrow table; CSV cells that are empty (or NA) become nulls."""
    if not path.exists():
        raise ReviewerError(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise ReviewerError(f"{path}: is a folder, not a ratings file")
    if path.stat().st_size == 0:
        raise ReviewerError(f"{path}: the file is empty", "expected item, rater, label rows")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if suffix in (".csv", ".tsv", ".txt"):
            from pyarrow import csv

            delimiter = "\t" if suffix == ".tsv" else ","
            return csv.read_csv(
                path,
                parse_options=csv.ParseOptions(delimiter=delimiter),
                convert_options=csv.ConvertOptions(strings_can_be_null=True),
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReviewerError(f"{path}: cannot read it ({exc})", "is it really that format?") from exc
    raise ReviewerError(f"{path}: unknown file type '{suffix}'", "use .csv, .tsv or .parquet")
