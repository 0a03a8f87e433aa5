"""SQL of ingest: per-file staging, duplicate checks, ingested files, image roots.

A source file reaches ``samples`` in ONE transaction, or not at all. Its batches
are first written to parquet parts in the audit's ``cache/ingest_stage/``
(without holding DuckDB's write lock, so reviewers are blocked only while a file
is published); the final transaction counts and skips duplicate ids, copies the survivors into
``samples`` with one ``INSERT ... SELECT`` and records the file. Why not stage in
DuckDB: many small appends inside one DuckDB transaction keep every appended row
in memory until the commit (measured: peak RSS grew ~300 bytes a row), while one
``INSERT ... SELECT`` from parquet runs in bounded memory, and pyarrow writes
parquet faster than DuckDB appends. A crash leaves only stale parts, which the
next ingest deletes (folders are named after the ingesting process's pid).
Plain parquet files skip staging: :mod:`reviewer.store.direct_ingest`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.atomic import process_alive
from reviewer.errors import ReviewerError, first_line
from reviewer.store.core import Database
from reviewer.store.sql import lit

_STAGE = "_ingest_stage"
INGEST_MEMORY_LIMIT = "256MB"
"""DuckDB's memory cap while publishing a file; it spills to ``cache/duckdb_tmp`` beyond."""


@dataclass
class StageResult:
    """What happened when a staged file was copied into ``samples``."""

    inserted: int
    duplicates_in_file: int
    duplicates_existing: int
    duplicate_example: str | None


@dataclass(frozen=True)
class IdSummary:
    """Every id a file inserted is ``prefix`` + a decimal integer in ``[lo, hi]``
    (see :mod:`reviewer.store.direct_ingest`)."""

    prefix: str
    lo: int
    hi: int


def ensure_id_summary(conn: duckdb.DuckDBPyConnection) -> None:
    """Add the id summary columns to an ``ingested_files`` made before they existed."""
    for name, typ in (("id_prefix", "VARCHAR"), ("id_lo", "BIGINT"), ("id_hi", "BIGINT")):
        conn.execute(f"ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS {name} {typ}")


def may_hold_ids(conn: duckdb.DuckDBPyConnection, ids: IdSummary | None) -> bool:
    """Whether the audit may hold an id of a file whose ids ``ids`` summarises.

    False only when every sample belongs to an ingested file with a summary and no
    summary shares the prefix with an overlapping range (see :mod:`reviewer.store.direct_ingest`).
    """
    if ids is None:
        return True
    ensure_id_summary(conn)
    row = conn.execute(
        "SELECT (SELECT count(*) FROM samples) = (SELECT coalesce(sum(rows), 0)"
        " FROM ingested_files) AND NOT EXISTS (SELECT 1 FROM ingested_files WHERE rows > 0"
        " AND (id_lo IS NULL OR (id_prefix = ? AND id_lo <= ? AND id_hi >= ?)))",
        [ids.prefix, ids.hi, ids.lo],
    ).fetchone()
    return not (row is not None and row[0])


def existing_ids_sql(ids: str) -> str:
    """SQL: how many rows of ``ids`` (a relation with ``sample_id``) the audit already
    holds, and the smallest such id.

    The inner join builds its hash table on the file's ids and streams the audit's past
    it: built the other way round, every file would hash all of ``samples`` (100M ids
    spilling at LAION scale).
    """
    return (
        f"SELECT count(*), min(sample_id) FROM {ids} f SEMI JOIN ("
        f"SELECT sample_id FROM samples SEMI JOIN {ids} g USING (sample_id)"
        ") USING (sample_id)"
    )


def without_duplicates(select: str, skip_existing: bool, skip_repeats: bool) -> str:
    """``select`` (rows with ``sample_id`` and ``source_row``) less the ids the audit holds
    and, of an id repeated in the file, all rows but the first."""
    if skip_existing:
        select = (
            f"SELECT * FROM ({select}) s ANTI JOIN (SELECT sample_id FROM samples) x"
            " USING (sample_id)"
        )
    if skip_repeats:
        select = (
            f"SELECT * FROM ({select}) QUALIFY row_number() OVER"
            " (PARTITION BY sample_id ORDER BY source_row) = 1"
        )
    return select


def duck_type(arrow_type: pa.DataType) -> str:
    """The DuckDB column type used for an Arrow type (extras are kept simple)."""
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    return "VARCHAR"


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column names and DuckDB types of ``table``."""
    rows = conn.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _widen(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Add the ``columns`` (name -> DuckDB type) that ``table`` lacks."""
    have = _columns(conn, table)
    for name, typ in columns.items():
        if name not in have:
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {typ}')


class FileStage:
    """The staging area of one file: parquet parts, then one publishing query.

    Staging needs no database connection, so an ingest holds DuckDB's write lock
    only while it publishes.

    Args:
        folder: An empty folder for the parts.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: list[Path] = []
        self.columns: dict[str, str] = {}
        self._writer: pq.ParquetWriter | None = None

    def add(self, batch: pa.Table) -> None:
        """Append a canonical batch; a batch with other columns starts a new part."""
        if self._writer is not None and not batch.schema.equals(self._writer.schema):
            try:
                batch = batch.select(self._writer.schema.names).cast(self._writer.schema)
            except (KeyError, ValueError, pa.ArrowException):
                self._close()
        if self._writer is None:
            part = self.folder / f"part-{len(self.parts):05d}.parquet"
            self._writer = pq.ParquetWriter(part, batch.schema, compression="snappy")
            self.parts.append(part)
        self._writer.write_table(batch)
        for f in batch.schema:
            self.columns.setdefault(f.name, duck_type(f.type))

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    @staticmethod
    def _existing(conn: duckdb.DuckDBPyConnection) -> tuple[int, str | None]:
        """Staged rows whose id the audit holds, and the smallest such id."""
        row = conn.execute(existing_ids_sql(_STAGE)).fetchone()
        return (0, None) if row is None else (int(row[0]), None if row[1] is None else str(row[1]))

    def discard(self) -> None:
        """Delete the parts."""
        self._close()
        for part in self.parts:
            part.unlink(missing_ok=True)

    def publish(
        self,
        conn: duckdb.DuckDBPyConnection,
        source: str,
        unique_ids: bool = False,
        check_existing: bool = True,
    ) -> StageResult:
        """Copy the staged rows into ``samples``, skipping duplicate sample ids.

        The first row of an id repeated inside the file wins; ids already in the
        audit are skipped.

        Args:
            conn: A write connection inside the transaction that also records the file.
            source: The file's name, for messages.
            unique_ids: The ids are unique within the file by construction (generated
                from file and row), so the within-file check is skipped.
            check_existing: False when no id of the file can be in the audit already
                (:func:`may_hold_ids`), so the audit's ids are not read.

        Raises:
            ReviewerError: DuckDB refused the rows (e.g. an extra column whose type
                clashes with the same column from an earlier file).
        """
        self._close()
        if not self.parts:
            return StageResult(0, 0, 0, None)
        try:
            return self._publish(conn, unique_ids, check_existing)
        except duckdb.Error as exc:
            first = first_line(exc, 200)
            raise ReviewerError(
                f"{source}: could not be added to the audit ({first})",
                "an extra column may clash in type with an earlier file's: rename it;"
                " nothing of this file was ingested",
            ) from exc

    def _publish(
        self, conn: duckdb.DuckDBPyConnection, unique_ids: bool, check_existing: bool
    ) -> StageResult:
        listed = ", ".join(lit(str(p)) for p in self.parts)
        conn.execute(
            f"CREATE OR REPLACE TEMP VIEW {_STAGE} AS"
            f" SELECT * FROM read_parquet([{listed}], union_by_name = true)"
        )
        _widen(conn, "samples", _columns(conn, _STAGE))
        within = (
            []
            if unique_ids
            else conn.execute(
                f"SELECT sample_id, count(*) - 1 FROM {_STAGE} GROUP BY sample_id"
                " HAVING count(*) > 1 ORDER BY min(source_row)"
            ).fetchall()
        )
        n_existing, existing_example = self._existing(conn) if check_existing else (0, None)
        staged = conn.execute(f"SELECT count(*) FROM {_STAGE}").fetchone()
        select = without_duplicates(f"SELECT * FROM {_STAGE}", n_existing > 0, bool(within))
        before = conn.execute("SELECT count(*) FROM samples").fetchone()
        conn.execute(f"INSERT INTO samples BY NAME {select}")
        after = conn.execute("SELECT count(*) FROM samples").fetchone()
        conn.execute(f"DROP VIEW {_STAGE}")
        inserted = (after[0] if after else 0) - (before[0] if before else 0)
        example = str(within[0][0]) if within else None
        if example is None and n_existing:
            example = str(existing_example)
        return StageResult(
            inserted=inserted,
            duplicates_in_file=(staged[0] if staged else 0) - inserted - n_existing,
            duplicates_existing=n_existing,
            duplicate_example=example,
        )


@contextmanager
def _transaction_on(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One explicit transaction on ``conn``: commit on success, roll back on any error."""
    conn.begin()
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


class IngestQueries:
    """What :mod:`reviewer.ingest` writes and reads (``store.ingest``).

    Args:
        db: The audit database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one explicit transaction: commit on success, else roll back."""
        with self.db.connect(write=True) as conn, _transaction_on(conn):
            yield conn

    @contextmanager
    def file_stage(self) -> Iterator[FileStage]:
        """A fresh :class:`FileStage` in its own folder, deleted afterwards."""
        folder = self._stage_folder()
        stage = FileStage(folder)
        try:
            yield stage
        finally:
            stage.discard()
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def publishing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The write transaction that publishes a staged file (memory capped for it)."""
        with self.db.connect(write=True) as conn:
            conn.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
            try:
                with _transaction_on(conn):
                    yield conn
            finally:
                conn.execute(f"SET memory_limit = '{self.db.memory_limit}'")

    def _stage_folder(self) -> Path:
        """An empty folder for one file's parts; parts of ingests that died are deleted."""
        base = self.delete_stale_stages()
        if base is None:
            return Path(tempfile.mkdtemp(prefix="reviewer-ingest-"))
        return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))

    def delete_stale_stages(self) -> Path | None:
        """Delete the parts staged by ingests that died; the staging folder (``None`` for an
        in-memory audit)."""
        if self.db.path is None:
            return None
        base = self.db.path.parent / "cache" / "ingest_stage"
        base.mkdir(parents=True, exist_ok=True)
        for old in base.iterdir():
            pid = old.name.split("-")[0]
            if pid.isdigit() and process_alive(int(pid)):
                continue
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        return base

    def ingested_unchanged(self, path: str, size: int, mtime_ns: int) -> bool:
        """Fast path: this very path was ingested with this size and modification time
        (its content hash was recorded then), so it need not be hashed again."""
        with self.db.connect() as conn:
            have = {r[0] for r in conn.execute("DESCRIBE ingested_files").fetchall()}
            if "mtime_ns" not in have:  # an audit made before the column existed
                return False
            row = conn.execute(
                "SELECT 1 FROM ingested_files WHERE path = ? AND size = ? AND mtime_ns = ?",
                [path, size, mtime_ns],
            ).fetchone()
        return row is not None

    def ingested_as(self, size: int, fingerprint: str) -> str | None:
        """Like :meth:`find_ingested`, on a short read-only connection."""
        with self.db.connect() as conn:
            return self.find_ingested(conn, size, fingerprint)

    def find_ingested(
        self, conn: duckdb.DuckDBPyConnection, size: int, fingerprint: str
    ) -> str | None:
        """The path under which a file with this size and fingerprint was ingested, if any."""
        row = conn.execute(
            "SELECT path FROM ingested_files WHERE size = ? AND fingerprint = ? LIMIT 1",
            [size, fingerprint],
        ).fetchone()
        return None if row is None else str(row[0])

    def record_ingested(
        self,
        conn: duckdb.DuckDBPyConnection,
        path: str,
        size: int,
        fingerprint: str,
        dataset: str,
        rows: int,
        warnings: int,
        mtime_ns: int | None = None,
        ids: IdSummary | None = None,
    ) -> None:
        """Remember a file as ingested (same transaction as its rows), with the summary
        of its ids when one is known exactly."""
        conn.execute("ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS mtime_ns BIGINT")
        ensure_id_summary(conn)
        conn.execute(
            "INSERT INTO ingested_files (path, size, fingerprint, dataset, rows, warnings,"
            " ingested_at, mtime_ns, id_prefix, id_lo, id_hi)"
            " VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
            [path, size, fingerprint, dataset, rows, warnings, mtime_ns,
             *((ids.prefix, ids.lo, ids.hi) if ids is not None else (None, None, None))],
        )

    def image_root_id(self, conn: duckdb.DuckDBPyConnection, path: str, kind: str) -> int:
        """The id of an image root (a folder or a tar shard), created on first use."""
        row = conn.execute(
            "SELECT root_id FROM image_roots WHERE path = ? AND kind = ?", [path, kind]
        ).fetchone()
        if row is not None:
            return int(row[0])
        new = conn.execute("SELECT coalesce(max(root_id), 0) + 1 FROM image_roots").fetchone()
        root_id = int(new[0]) if new else 1
        conn.execute("INSERT INTO image_roots VALUES (?, ?, ?)", [root_id, path, kind])
        return root_id

    def image_roots(self) -> dict[int, tuple[str, str]]:
        """Every image root as ``root_id -> (path, kind)``."""
        with self.db.connect() as conn:
            rows = conn.execute("SELECT root_id, path, kind FROM image_roots").fetchall()
        return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}
