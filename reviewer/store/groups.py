"""SQL on near-duplicate groups: one grouping per method (``sha256``, ``pdq``, ``clip``).

A grouping run replaces the previous grouping of the same method in one short
write transaction. ``pdq`` and ``clip`` are both perceptual: the newer of the two is
the one the review app decides with ``g`` (:meth:`GroupQueries.perceptual`). Only
groups of two or more samples are stored; a sample's group is its ``group_id``
(``sha256-17``, ``pdq-3``, ``clip-5``), shown as ``group:<id>`` in the provenance of
decisions propagated to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

    from reviewer.store.core import Database

_DDL = (
    "CREATE TABLE IF NOT EXISTS groupings (method VARCHAR PRIMARY KEY, params VARCHAR,"
    " created_at TIMESTAMP DEFAULT current_timestamp, groups BIGINT, members BIGINT)",
    "CREATE TABLE IF NOT EXISTS sample_groups (method VARCHAR, group_id VARCHAR,"
    " sample_id VARCHAR, size BIGINT)",
)


class GroupQueries:
    """Near-duplicate groups by method.

    Args:
        db: Short-lived DuckDB connections.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(self, method: str, params: str, members: pa.Table) -> None:
        """Store ``members`` (``group_id, sample_id, size``) as the grouping of ``method``."""
        with self.db.connect(write=True) as conn:
            for statement in _DDL:
                conn.execute(statement)
            conn.register("_members", members)
            conn.execute("BEGIN TRANSACTION")
            conn.execute("DELETE FROM sample_groups WHERE method = ?", [method])
            conn.execute("DELETE FROM groupings WHERE method = ?", [method])
            conn.execute(
                "INSERT INTO sample_groups SELECT ?, group_id, sample_id, size FROM _members",
                [method],
            )
            conn.execute(
                "INSERT INTO groupings (method, params, groups, members)"
                " SELECT ?, ?, count(DISTINCT group_id), count(*) FROM _members",
                [method, params],
            )
            conn.execute("COMMIT")

    def perceptual(self) -> str:
        """The newer perceptual grouping's method (``pdq`` or ``clip``; ``pdq`` when neither)."""
        with self.db.connect() as conn:
            if not _exists(conn):
                return "pdq"
            newest = conn.execute(
                "SELECT method FROM groupings WHERE method IN ('pdq', 'clip')"
                " ORDER BY created_at DESC, method LIMIT 1"
            ).fetchall()
        return str(newest[0][0]) if newest else "pdq"

    def members(self, method: str) -> pa.Table:
        """``group_id, sample_id, size`` of every grouped sample (empty when never grouped)."""
        with self.db.connect() as conn:
            if not _exists(conn):
                return pa.table({"group_id": pa.array([], pa.string()),
                                 "sample_id": pa.array([], pa.string()),
                                 "size": pa.array([], pa.int64())})
            return conn.sql(
                "SELECT group_id, sample_id, size FROM sample_groups WHERE method = ?"
                " ORDER BY group_id, sample_id",
                params=[method],
            ).to_arrow_table()


def _exists(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``reviewer groups`` ever ran (its tables are made on first use)."""
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sample_groups'"
    ).fetchall()
    return bool(found[0][0])
