"""SQL of ingest: per-file staging, duplicate checks, ingested files, image roots.

Each source file is ingested inside one write transaction: its batches go to a
temporary staging table, duplicates are counted and skipped with one query, and
the survivors are copied into ``samples``. A failure anywhere rolls the whole
file back, so an audit never holds half a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from reviewer.store.core import StoreBase

_STAGE = "_ingest_stage"


@dataclass
class StageResult:
    """What happened when a staged file was copied into ``samples``."""

    inserted: int
    duplicates_in_file: int
    duplicates_existing: int
    duplicate_example: str | None


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    return "VARCHAR"


class IngestQueries(StoreBase):
    """Methods used by :mod:`reviewer.ingest`."""

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one explicit transaction: commit on success, else roll back."""
        with self.connect(write=True) as conn:
            conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

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
    ) -> None:
        """Remember a file as ingested (same transaction as its rows)."""
        conn.execute(
            "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [path, size, fingerprint, dataset, rows, warnings],
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
        with self.connect() as conn:
            rows = conn.execute("SELECT root_id, path, kind FROM image_roots").fetchall()
        return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def stage_batch(self, conn: duckdb.DuckDBPyConnection, batch: pa.Table) -> None:
        """Append a canonical batch to this transaction's staging table."""
        conn.register("_incoming", batch)
        try:
            exists = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
                [_STAGE],
            ).fetchone()
            if exists and exists[0]:
                incoming = {f.name: _duck_type(f.type) for f in batch.schema}
                self._widen(conn, _STAGE, incoming)
                conn.execute(f"INSERT INTO {_STAGE} BY NAME SELECT * FROM _incoming")
            else:
                conn.execute(f"CREATE TEMP TABLE {_STAGE} AS SELECT * FROM _incoming")
        finally:
            conn.unregister("_incoming")

    def _columns(self, conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
        """Column names and DuckDB types of ``table``."""
        rows = conn.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def _widen(self, conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
        """Add the ``columns`` (name -> DuckDB type) that ``table`` lacks."""
        have = self._columns(conn, table)
        for name, typ in columns.items():
            if name not in have:
                conn.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {typ}')

    def commit_stage(self, conn: duckdb.DuckDBPyConnection) -> StageResult:
        """Copy the staged file into ``samples``, skipping duplicate sample ids.

        The first row of an id repeated inside the file wins; ids already in the
        audit are skipped. The staging table is dropped afterwards.
        """
        exists = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [_STAGE]
        ).fetchone()
        if not exists or not exists[0]:
            return StageResult(0, 0, 0, None)
        self._widen(conn, "samples", self._columns(conn, _STAGE))
        within = conn.execute(
            f"SELECT sample_id, count(*) - 1 FROM {_STAGE} GROUP BY sample_id"
            " HAVING count(*) > 1 ORDER BY min(source_row)"
        ).fetchall()
        existing = conn.execute(
            f"SELECT count(*), min(sample_id) FROM {_STAGE} SEMI JOIN samples USING (sample_id)"
        ).fetchone()
        n_existing = int(existing[0]) if existing else 0
        staged_rows = conn.execute(f"SELECT count(*) FROM {_STAGE}").fetchone()
        select = f"SELECT * FROM {_STAGE}"
        if n_existing:
            select += " s ANTI JOIN (SELECT sample_id FROM samples) x USING (sample_id)"
        if within:
            select = (
                f"SELECT * FROM ({select}) QUALIFY row_number() OVER"
                " (PARTITION BY sample_id ORDER BY source_row) = 1"
            )
        before = conn.execute("SELECT count(*) FROM samples").fetchone()
        conn.execute(f"INSERT INTO samples BY NAME {select}")
        after = conn.execute("SELECT count(*) FROM samples").fetchone()
        conn.execute(f"DROP TABLE {_STAGE}")
        inserted = (after[0] if after else 0) - (before[0] if before else 0)
        example = (
            str(within[0][0]) if within else (str(existing[1]) if existing and n_existing else None)
        )
        return StageResult(
            inserted=inserted,
            duplicates_in_file=(staged_rows[0] if staged_rows else 0) - inserted - n_existing,
            duplicates_existing=n_existing,
            duplicate_example=example,
        )
