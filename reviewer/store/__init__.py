"""The audit's storage: DuckDB for samples, scores and plans; SQLite for human labels.

:class:`Store` is the one class that owns the DuckDB database and all its SQL.
Its methods are grouped by subject in mixin modules so that each stays small.
"""

from __future__ import annotations

from reviewer.store.exporting import ExportQueries
from reviewer.store.labels import Decision, LabelEvent, LabelStore
from reviewer.store.plans import PlanQueries
from reviewer.store.review import ReviewQueries
from reviewer.store.samples import AuditSummary, SampleQueries
from reviewer.store.scores import ScoreQueries
from reviewer.store.statistics import StatsQueries
from reviewer.store.work_lists import WorkListQueries


class Store(
    SampleQueries,
    ReviewQueries,
    ScoreQueries,
    WorkListQueries,
    PlanQueries,
    ExportQueries,
    StatsQueries,
):
    """Owns the audit's DuckDB file and every SQL statement run on it."""


__all__ = ["AuditSummary", "Decision", "LabelEvent", "LabelStore", "Store"]
