"""The boundary to the audit's DuckDB file: connections, schema, label views.

All SQL of the analytical side lives in the ``reviewer.store`` package. Every
subject object of :class:`~reviewer.store.Store` (samples, flags, plans …) is
given one :class:`Database` and runs its SQL through it, so connection handling
(the DuckDB file lock, read-only audits, spill folders) is written once. The UI
never imports ``duckdb``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from reviewer.errors import ReviewerError, first_line
from reviewer.store.connection import ConnectionFactory, HeldReader
from reviewer.store.damage import explain_duckdb_error
from reviewer.store.labels import LabelStore
from reviewer.store.schema import DDL, SCHEMA_VERSION


class Database:
    """The audit's DuckDB file and its label store, shared by every subject object.

    Args:
        path: The DuckDB file, or ``None`` for an in-memory store.
        labels: The label store, so analytical queries can join human decisions.
        busy_timeout_s: How long to wait for another process's lock.
        read_only: Refuse writes (an audit in a folder this user cannot write); DuckDB
            then spills to the system's temporary folder instead of the audit's cache.
        scores_dir: The flag runs' folder, to name a damaged score part in an error.
        memory_limit: DuckDB's memory limit (``reviewer.toml`` ``[database]``).
        temp_directory: Where DuckDB spills; empty for the default above.
    """

    def __init__(
        self,
        path: Path | None,
        labels: LabelStore | None = None,
        busy_timeout_s: float = 60.0,
        read_only: bool = False,
        scores_dir: Path | None = None,
        memory_limit: str = "512MB",
        temp_directory: str = "",
    ) -> None:
        temp_dir = path.parent / "cache" / "duckdb_tmp" if path is not None else None
        if read_only and path is not None:
            temp_dir = Path(tempfile.gettempdir()) / f"reviewer-duckdb-{os.getuid()}"
        if temp_directory:
            temp_dir = Path(temp_directory).expanduser()
        self.path = path
        self.scores_dir = scores_dir
        self.factory = ConnectionFactory(
            path,
            busy_timeout_s=busy_timeout_s,
            temp_dir=temp_dir,
            memory_limit=memory_limit,
            read_only=read_only,
            diagnose=lambda exc: explain_duckdb_error(exc, path, scores_dir),
        )
        self.labels = labels if labels is not None else LabelStore(None)

    @property
    def memory_limit(self) -> str:
        """DuckDB's memory limit on every connection (ingest lowers it while publishing)."""
        return self.factory.memory_limit

    def connect(
        self, write: bool = False
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A short-lived connection as a context manager (see :meth:`ConnectionFactory.open`)."""
        return self.factory.open(write=write)

    def held_reader(self) -> HeldReader:
        """A read-only connection kept across a long job's reads, yielding to writers."""
        return self.factory.held()

    def create_schema(self) -> None:
        """Create the tables of a new audit (idempotent)."""
        with self.connect(write=True) as conn:
            for statement in DDL:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
                [str(SCHEMA_VERSION)],
            )

    def query(self, sql: str, params: Sequence[Any] = (), with_labels: bool = False) -> pa.Table:
        """Run a read query and return Arrow; ``with_labels`` registers label views first."""
        with self.connect() as conn:
            if with_labels:
                self.register_labels(conn)
            try:
                return conn.sql(sql, params=list(params) or None).to_arrow_table()
            except duckdb.Error as exc:
                explained = explain_duckdb_error(exc, self.path, self.scores_dir)
                raise explained or ReviewerError(f"query failed: {first_line(exc)}") from exc

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query that returns one value."""
        with self.connect() as conn:
            row = conn.execute(sql, list(params)).fetchone()
        return None if row is None else row[0]

    def register_labels(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Expose the label store to a DuckDB connection as ``labels_current``,
        ``label_events`` and ``quarantine`` (``sample_id, reason, created_at``) relations."""
        conn.register("labels_current", self.labels.current_labels())
        conn.register("label_events", self.labels.events())
        conn.register("quarantine", self.labels.quarantine_table())

    def close(self) -> None:
        """Release the in-memory database if any (file connections are short-lived)."""
        self.factory.close()
