"""SQL of the direct ingest path: a plain parquet file straight into ``samples``.

The staged path (:mod:`reviewer.store.ingested`) reads every batch into Python,
normalises it with Arrow, writes a staging copy and reads that copy back: three
passes over the data for a file DuckDB could have read once. When every column
of a parquet file has a plain type whose normalisation SQL does exactly as
:mod:`reviewer.ingest.normalize` does (text kept as it is, integers written as
decimal text, floats truncated to integers, NaN to NULL), the file is published
by ONE ``INSERT INTO samples BY NAME SELECT … FROM read_parquet(file)`` inside
the file's one transaction, after two cheap passes over a few columns: one
that counts the caption warnings and the duplicate ids, one (rarely) that looks
for ids the audit holds already.

Anything SQL would do differently raises :class:`DirectFallback`; the caller
rolls the transaction back and takes the staged path, which repairs it the
Python way. Invalid UTF-8 is the main case: DuckDB's parquet reader refuses it
(``Invalid string encoding``) where the staged path replaces the bytes by U+FFFD
and counts them. A corrupt or truncated file falls back too, and the staged
path names the row reached.

Ids already in the audit: every file records a *summary* of the ids it
inserted when one is exact — "``id_prefix`` followed by an integer in
``[id_lo, id_hi]`` written in decimal" (LAION-400M's integer ``SAMPLE_ID``\\ s:
prefix ``''``; generated ids ``{dataset}:{stem}:{row}``: prefix
``{dataset}:{stem}:``). Two such sets with different prefixes (each empty or
ending in ``:``) cannot share an id, nor two with the same prefix and disjoint
ranges. When every sample of the audit belongs to a file with a summary
(``sum(rows) = count(*)``) and none overlaps the new file's, no id of the new
file can be in the audit, and the semi join that would read every ``sample_id``
of the audit (once per file: quadratic in the number of files) is skipped. The
summary is written in the same transaction as the rows, so it never disagrees
with ``samples`` after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from reviewer.errors import first_line
from reviewer.store.connection import Progress, fetch_with_progress
from reviewer.store.ingested import (
    IdSummary,
    StageResult,
    existing_ids_sql,
    may_hold_ids,
    without_duplicates,
)
from reviewer.store.sql import ident, lit

WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What Arrow's ``utf8_trim_whitespace`` (and Python's ``str.isspace``) call white space."""

KINDS: dict[str, tuple[str, str]] = {
    "text": ("{c}", "VARCHAR"),
    "int_text": ("CAST({c} AS VARCHAR)", "VARCHAR"),
    "double": ("CAST({c} AS DOUBLE)", "DOUBLE"),
    "bigint": ("CAST({c} AS BIGINT)", "BIGINT"),
    # pyarrow's unsafe float -> int64 cast truncates; NaN and infinities become NULL first.
    "float_bigint": ("CASE WHEN isfinite({c}) THEN CAST(trunc({c}) AS BIGINT) END", "BIGINT"),
    "boolean": ("{c}", "BOOLEAN"),
}
"""Column kind -> (normalising SQL of the source column ``{c}``, DuckDB type in ``samples``)."""

_INTEGERS: tuple[str, ...] = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")
_INTEGERS += tuple(f"U{t}" for t in _INTEGERS)
_SOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("VARCHAR",),
    "int_text": _INTEGERS,
    "double": (*_INTEGERS, "FLOAT", "DOUBLE"),
    "bigint": _INTEGERS,
    "float_bigint": ("FLOAT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
}
"""The DuckDB types each kind accepts as its source (DuckDB reads the file, not pyarrow)."""


class DirectFallback(Exception):
    """DuckDB cannot publish this file exactly as the staged path would: take that path."""


@dataclass(frozen=True)
class DirectColumn:
    """One source column of the file, where it goes and how it is normalised."""

    source: str
    target: str
    kind: str


@dataclass(frozen=True)
class DirectFile:
    """What the direct path needs to know about one parquet file.

    Attributes:
        path: The parquet file.
        dataset: The ``dataset`` of its rows.
        id_prefix: Generated ids are ``{id_prefix}:{row}`` (no id, or an empty or NULL one).
        columns: Every source column; exactly one has target ``text``.
        id_kind: The kind of the ``sample_id`` source column, or ``None`` without one.
        long_caption_bytes: Captions longer than this are counted.
    """

    path: str
    dataset: str
    id_prefix: str
    columns: tuple[DirectColumn, ...]
    id_kind: str | None
    long_caption_bytes: int


@dataclass(frozen=True)
class Profile:
    """What one pass over a file's id and caption columns found."""

    rows: int
    repeats: int
    blank: int
    first_blank: int | None
    long: int
    first_long: int | None
    ids: IdSummary | None


@dataclass(frozen=True)
class DirectResult:
    """What publishing a file directly did: what its profile found, what was inserted."""

    profile: Profile
    stage: StageResult


def _expr(column: DirectColumn) -> str:
    return KINDS[column.kind][0].format(c=ident(column.source))


class DirectPublisher:
    """Publishes one parquet file into ``samples`` inside the caller's transaction.

    Args:
        conn: A write connection inside the file's one transaction.
        spec: The file and its columns.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, spec: DirectFile) -> None:
        self.conn = conn
        self.spec = spec
        # No hive partitioning: a folder named ``lang=en`` must not add a column.
        self.scan = (
            f"read_parquet({lit(spec.path)}, file_row_number = true, hive_partitioning = false)"
        )
        source_id = next((c for c in spec.columns if c.target == "sample_id"), None)
        generated = f"{lit(spec.id_prefix + ':')} || CAST(file_row_number AS VARCHAR)"
        self.id_sql = (
            generated
            if source_id is None
            else f"coalesce(nullif({_expr(source_id)}, ''), {generated})"
        )
        self.id_source = None if source_id is None else ident(source_id.source)
        self.caption = ident(next(c.source for c in spec.columns if c.target == "text"))

    def check_types(self) -> None:
        """Refuse a file whose columns DuckDB reads as other types than the plan assumed.

        Raises:
            DirectFallback: A type differs, or DuckDB cannot read the file.
        """
        rows = self._run(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {self.scan})"
        )
        types = {str(r[0]): str(r[1]) for r in rows}
        for column in self.spec.columns:
            if types.get(column.source) not in _SOURCE_TYPES[column.kind]:
                raise DirectFallback(f"{column.source}: {types.get(column.source)}")

    def widen(self) -> None:
        """Add the extra columns ``samples`` lacks (a clashing type fails at the insert)."""
        have = {str(r[0]) for r in self._run("SELECT column_name FROM (DESCRIBE samples)")}
        for column in self.spec.columns:
            if column.target not in have:
                typ = KINDS[column.kind][1]
                self._run(f"ALTER TABLE samples ADD COLUMN {ident(column.target)} {typ}")

    def profile(self) -> Profile:
        """One pass over the id and caption columns: rows, repeated ids, blank and long
        captions (count, first row), and the ids' summary when one is exact."""
        t = self.caption
        # Only a caption starting with a space or a non-ASCII character can be blank: CASE
        # trims just those (a FILTER clause would evaluate trim() on every row, 10x slower).
        blank = (
            f"{t} IS NULL OR CASE WHEN {t} < '!' OR {t} >= chr(128)"
            f" THEN trim({t}, {lit(WHITESPACE)}) = '' ELSE false END"
        )
        long = f"strlen({t}) > {int(self.spec.long_caption_bytes)}"
        int_ids = self._int_ids() if self.spec.id_kind == "int_text" else None
        row = self._run(
            f"SELECT count(*), {self._repeats_sql(int_ids)}, count(*) FILTER ({blank}),"
            f" min(file_row_number) FILTER ({blank}), count(*) FILTER ({long}),"
            f" min(file_row_number) FILTER ({long}) FROM {self.scan}"
        )[0]
        n = int(row[0])
        summary = None
        if self.id_source is None and n:
            summary = IdSummary(self.spec.id_prefix + ":", 0, n - 1)
        elif int_ids is not None and n and int_ids[0] == n:
            summary = IdSummary("", int_ids[1], int_ids[2])
        return Profile(n, int(row[1]), int(row[2]), row[3], int(row[4]), row[5], summary)

    def _int_ids(self) -> tuple[int, int, int] | None:
        """Count, min and max of integer ids (from the file's statistics: no scan), or
        ``None`` when there are none or they do not fit a BIGINT."""
        assert self.id_source is not None
        row = self._run(
            f"SELECT count({self.id_source}), min({self.id_source}), max({self.id_source})"
            f" FROM read_parquet({lit(self.spec.path)}, hive_partitioning = false)"
        )[0]
        if not row[0] or not -(2**63) <= row[1] <= row[2] < 2**63:
            return None
        return int(row[0]), int(row[1]), int(row[2])

    def _repeats_sql(self, int_ids: tuple[int, int, int] | None) -> str:
        """SQL counting the rows whose id an earlier row of the file has."""
        if self.id_source is None:
            return "0"  # generated ids are unique
        if self.spec.id_kind != "int_text":
            return f"count(*) - count(DISTINCT {self.id_sql})"
        # Generated ids (with ':') never equal decimal ones: only the integers can repeat.
        c = self.id_source
        if int_ids is not None and int_ids[2] - int_ids[1] < 16 * int_ids[0] + (1 << 20):
            # One bit per possible value (<= 2 bytes a row): 6-10x faster than hashing.
            lo, hi = int_ids[1], int_ids[2]
            return f"count({c}) - bit_count(bitstring_agg(CAST({c} AS BIGINT), {lo}, {hi}))"
        return f"count({c}) - count(DISTINCT {c})"

    def first_duplicate(self) -> str | None:
        """The id repeated in the file whose first row comes first."""
        rows = self._run(
            f"SELECT sample_id FROM (SELECT {self.id_sql} AS sample_id,"
            f" min(file_row_number) AS first FROM {self.scan} GROUP BY 1"
            " HAVING count(*) > 1) ORDER BY first LIMIT 1"
        )
        return str(rows[0][0]) if rows else None

    def existing(self) -> tuple[int, str | None]:
        """Rows of the file whose id the audit holds, and the smallest such id."""
        ids = f"(SELECT {self.id_sql} AS sample_id FROM {self.scan})"
        row = self._run(existing_ids_sql(ids))[0]
        return int(row[0]), None if row[1] is None else str(row[1])

    def insert_sql(self, skip_existing: bool, skip_repeats: bool) -> str:
        """The one statement that copies the file's rows into ``samples``."""
        spec = self.spec
        select = [
            f"{_expr(c)} AS {ident(c.target)}" for c in spec.columns if c.target != "sample_id"
        ]
        select += [
            f"{self.id_sql} AS sample_id",
            f"{lit(spec.dataset)} AS dataset",
            f"{lit(spec.path)} AS source_file",
            "file_row_number AS source_row",
        ]
        sql = f"SELECT {', '.join(select)} FROM {self.scan}"
        return f"INSERT INTO samples BY NAME {without_duplicates(sql, skip_existing, skip_repeats)}"

    def publish(self, progress: Progress | None = None) -> DirectResult:
        """Check, count and copy the file's rows (``progress``: percent done of the copy).

        Raises:
            DirectFallback: DuckDB refused something (the caller rolls back).
        """
        self.check_types()
        self.widen()
        p = self.profile()
        example = self.first_duplicate() if p.repeats else None
        n_existing, existing_example = (
            self.existing() if may_hold_ids(self.conn, p.ids) else (0, None)
        )
        sql = self.insert_sql(skip_existing=n_existing > 0, skip_repeats=p.repeats > 0)
        try:
            rows = fetch_with_progress(self.conn, sql, progress=progress)
        except duckdb.Error as exc:
            raise DirectFallback(first_line(exc, 200)) from exc
        inserted = int(rows[0][0]) if rows else 0
        stage = StageResult(
            inserted=inserted,
            duplicates_in_file=p.rows - inserted - n_existing,
            duplicates_existing=n_existing,
            duplicate_example=example if example is not None else existing_example,
        )
        return DirectResult(p, stage)

    def _run(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise DirectFallback(first_line(exc, 200)) from exc
