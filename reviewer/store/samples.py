"""SQL on the ``samples`` table: inserting ingested batches, summaries, lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from reviewer.errors import ReviewerError
from reviewer.store.core import Database
from reviewer.store.ingested import duck_type
from reviewer.store.schema import CANONICAL_COLUMNS, NSFW_LEVELS

_SAFE_NAME = re.compile(r"[^a-z0-9_]+")


def column_name(raw: str) -> str:
    """A safe lower-case column name for an extra source column."""
    name = _SAFE_NAME.sub("_", raw.strip().lower()).strip("_") or "col"
    return f"x_{name}" if name[0].isdigit() else name


@dataclass
class AuditSummary:
    """What an audit holds, for ``reviewer ingest`` and the demo."""

    samples: int
    by_dataset: dict[str, int]
    nsfw_tags: dict[str, int]
    files: int
    with_images: int
    flag_runs: dict[str, int] = field(default_factory=dict)
    labels: int = 0
    reviewers: int = 0


class SampleQueries:
    """The ``samples`` table (``store.samples``).

    Args:
        db: The audit database (its label store gives the summary's label counts).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def columns(self, conn: duckdb.DuckDBPyConnection | None = None) -> list[str]:
        """Column names of ``samples`` in table order (canonical first, then extras)."""
        sql = (
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'samples' ORDER BY ordinal_position"
        )
        if conn is not None:
            return [r[0] for r in conn.execute(sql).fetchall()]
        with self.db.connect() as c:
            return [r[0] for r in c.execute(sql).fetchall()]

    def insert(self, conn: duckdb.DuckDBPyConnection, batch: pa.Table) -> int:
        """Insert a batch already mapped to canonical names (within the caller's transaction).

        Columns missing from the batch are NULL; columns unknown to ``samples`` are
        added to it, so extra metadata is kept.
        """
        existing = set(self.columns(conn))
        for name in batch.column_names:
            if name not in existing:
                typ = duck_type(batch.schema.field(name).type)
                conn.execute(f'ALTER TABLE samples ADD COLUMN "{name}" {typ}')
                existing.add(name)
        conn.register("_incoming", batch)
        try:
            cols = ", ".join(f'"{c}"' for c in batch.column_names)
            conn.execute(f"INSERT INTO samples ({cols}) SELECT {cols} FROM _incoming")
        finally:
            conn.unregister("_incoming")
        return int(batch.num_rows)

    def count(self) -> int:
        """Number of samples in the audit."""
        return int(self.db.scalar("SELECT count(*) FROM samples") or 0)

    def get(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Rows of the given samples, by id (unknown ids are absent)."""
        if not sample_ids:
            return {}
        ids = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        with self.db.connect() as conn:
            conn.register("_ids", ids)
            rows = conn.sql(
                "SELECT s.* FROM samples s SEMI JOIN _ids USING (sample_id)"
            ).to_arrow_table()
        return {row["sample_id"]: row for row in rows.to_pylist()}

    def unknown(self, sample_ids: pa.Array) -> list[int]:
        """Positions in ``sample_ids`` of ids that are not samples of the audit."""
        ids = pa.table({"position": pa.array(range(len(sample_ids)), pa.int64()),
                        "sample_id": sample_ids.cast(pa.string())})
        with self.db.connect() as conn:
            conn.register("_ids", ids)
            rows = conn.execute(
                "SELECT position FROM _ids i ANTI JOIN samples s USING (sample_id)"
                " ORDER BY position"
            ).fetchall()
        return [int(r[0]) for r in rows]

    def table(
        self,
        columns: list[str] | None = None,
        where: str | None = None,
        params: list[Any] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """Samples in ingest order (dataset, file, row) as Arrow, for the notebook API.

        Args:
            columns: Columns to return (default all); names are checked against the table.
            where: An SQL condition on ``samples`` with ``?`` placeholders.
            params: Values for the placeholders.
            limit: At most this many rows.

        Raises:
            ReviewerError: An unknown column or a failing condition.
        """
        known = self.columns()
        wanted = columns or known
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise ReviewerError(
                f"unknown sample column(s): {', '.join(unknown)}", f"known: {', '.join(known)}"
            )
        sql = "SELECT " + ", ".join(f'"{c}"' for c in wanted) + " FROM samples"
        if where:
            sql += f" WHERE {where}"
        sql += " ORDER BY dataset, source_file, source_row"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.db.query(sql, params or [])

    def summary(self) -> AuditSummary:
        """Counts by dataset, NSFW tag and source files."""
        with self.db.connect() as conn:
            total = conn.execute("SELECT count(*) FROM samples").fetchone()
            by_dataset = dict(
                conn.execute(
                    "SELECT coalesce(dataset, '?'), count(*) FROM samples GROUP BY 1 ORDER BY 1"
                ).fetchall()
            )
            levels = ", ".join(f"'{lvl}'" for lvl in NSFW_LEVELS)
            tags = dict(
                conn.execute(
                    f"SELECT CASE WHEN nsfw IN ({levels}) THEN nsfw ELSE 'N/A' END, count(*)"
                    " FROM samples GROUP BY 1 ORDER BY 1"
                ).fetchall()
            )
            files = conn.execute("SELECT count(*) FROM ingested_files").fetchone()
            images = conn.execute(
                "SELECT count(*) FROM samples WHERE image_ref IS NOT NULL"
            ).fetchone()
        labels = self.db.labels.current_labels()
        return AuditSummary(
            samples=int(total[0]) if total else 0,
            by_dataset={str(k): int(v) for k, v in by_dataset.items()},
            nsfw_tags={str(k): int(v) for k, v in tags.items()},
            files=int(files[0]) if files else 0,
            with_images=int(images[0]) if images else 0,
            labels=labels.num_rows,
            reviewers=len(self.db.labels.reviewers()),
        )


__all__ = ["CANONICAL_COLUMNS", "AuditSummary", "SampleQueries", "column_name"]
