"""The audit's storage: DuckDB for samples, scores and plans; SQLite for human labels.

:class:`Store` owns the DuckDB database and all its SQL. It holds the connection
factory (:class:`Database`, with the label store) and the scores folder, and
exposes one object per subject, each given exactly the collaborators it needs:

===================== ==========================================================
``store.samples``     the ``samples`` table: insert, count, rows, summary
``store.ingest``      staged ingest, ingested files, image roots
``store.images``      image links: the rows linking reads, setting ``image_ref``
``store.flags``       flag rows, reasons, counts, runs
``store.work_lists``  what a flag run scores: row ranges, reads, input snapshots
``store.review``      the default review queue, breathers, item rows with reasons
``store.sample_keys`` ``sample_id`` to ``rowid`` key files: a page reads only its rows
``store.plans``       sampling plans: draw, strata, items, queues
``store.exports``     ``reviewer export`` through DuckDB ``COPY``
``store.stats``       the tables :mod:`reviewer.stats` computes on
``store.hashes``      image hashes, known-content list matches (hash joins)
``store.groups``      near-duplicate groups per method (sha256, pdq)
===================== ==========================================================

``store.flag_views`` (the flags contract as temp views) is the one object the
flags, review, plans, exports and stats subjects share.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from reviewer.store.core import Database
from reviewer.store.exporting import ExportQueries
from reviewer.store.groups import GroupQueries
from reviewer.store.hashes import HashQueries
from reviewer.store.image_links import ImageLinkQueries
from reviewer.store.ingested import IngestQueries
from reviewer.store.labels import Decision, LabelEvent, LabelStore
from reviewer.store.plans import PlanQueries
from reviewer.store.probes import ProbeQueries
from reviewer.store.review import ReviewQueries
from reviewer.store.sample_keys import SampleKeys
from reviewer.store.samples import AuditSummary, SampleQueries
from reviewer.store.scores import FlagQueries, FlagViews
from reviewer.store.statistics import StatsQueries
from reviewer.store.work_lists import WorkListQueries


class Store:
    """The audit's DuckDB file and every SQL statement run on it, one object per subject.

    Args:
        path: The DuckDB file, or ``None`` for an in-memory store.
        labels: The label store, so analytical queries can join human decisions.
        scores_dir: Folder where flag runs write their parquet score files.
        busy_timeout_s: How long to wait for another process's lock.
        read_only: Refuse writes (an audit in a folder this user cannot write).
        memory_limit: DuckDB's memory limit (``reviewer.toml`` ``[database]``).
        temp_directory: Where DuckDB spills; empty for the audit's ``cache/duckdb_tmp``.
    """

    def __init__(
        self,
        path: Path | None,
        labels: LabelStore | None = None,
        scores_dir: Path | None = None,
        busy_timeout_s: float = 60.0,
        read_only: bool = False,
        memory_limit: str = "512MB",
        temp_directory: str = "",
    ) -> None:
        self.db = Database(
            path,
            labels,
            busy_timeout_s=busy_timeout_s,
            read_only=read_only,
            scores_dir=scores_dir,
            memory_limit=memory_limit,
            temp_directory=temp_directory,
        )
        self.scores_dir = scores_dir
        self.flag_views = FlagViews(scores_dir)
        self.samples = SampleQueries(self.db)
        self.ingest = IngestQueries(self.db)
        self.images = ImageLinkQueries(self.db, self.ingest)
        self.flags = FlagQueries(self.db, self.flag_views)
        self.work_lists = WorkListQueries(self.db)
        self.probes = ProbeQueries(self.db, self.flag_views)
        self.sample_keys = SampleKeys(
            self.db, path.parent / "cache" / "sample_keys" if path is not None else None
        )
        self.review = ReviewQueries(
            self.db, self.flag_views, self.flags, self.probes, self.sample_keys
        )
        self.plans = PlanQueries(self.db, self.flag_views)
        self.exports = ExportQueries(self.db, self.flag_views)
        self.stats = StatsQueries(self.db, self.flag_views, self.plans)
        self.hashes = HashQueries(self.db, self.flag_views)
        self.groups = GroupQueries(self.db)

    @property
    def path(self) -> Path | None:
        """The DuckDB file (``None``: in memory)."""
        return self.db.path

    @property
    def labels(self) -> LabelStore:
        """The label store the analytical queries join."""
        return self.db.labels

    def connect(self, write: bool = False) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A short-lived DuckDB connection as a context manager; nobody keeps the file open."""
        return self.db.connect(write)

    def query(self, sql: str, params: Sequence[Any] = (), with_labels: bool = False) -> pa.Table:
        """Run a read query and return Arrow; ``with_labels`` registers the label views first."""
        return self.db.query(sql, params, with_labels)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query that returns one value."""
        return self.db.scalar(sql, params)

    def create_schema(self) -> None:
        """Create the tables of a new audit (idempotent)."""
        self.db.create_schema()

    def close(self) -> None:
        """Release the in-memory database if any (file connections are short-lived)."""
        self.db.close()


__all__ = ["AuditSummary", "Database", "Decision", "LabelEvent", "LabelStore", "Store"]
