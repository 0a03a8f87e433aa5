"""The notebook API: an audit's samples, scores and labels as Arrow or pandas, no TUI.

Researchers estimating filter precision work in notebooks; this module gives
them the same numbers the CLI prints, as tables.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from reviewer.audit import Audit


class AuditHandle:
    """A read-mostly view of an audit for notebooks.

    Args:
        audit: The opened audit.
    """

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    @property
    def store(self):  # type: ignore[no-untyped-def]
        """The underlying :class:`reviewer.store.Store`."""
        return self.audit.store

    def samples(self, limit: int | None = None) -> pa.Table:
        """All samples (or the first ``limit``) as an Arrow table."""
        sql = "SELECT * FROM samples ORDER BY dataset, source_file, source_row"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.audit.store.query(sql)

    def labels(self) -> pa.Table:
        """Current labels: one row per (sample, reviewer, category)."""
        return self.audit.labels.current_labels()

    def label_events(self) -> pa.Table:
        """Every decision event, undos included."""
        return self.audit.labels.events()

    def sql(self, query: str) -> pa.Table:
        """Run read-only SQL over ``samples`` and the label relations
        (``labels_current``, ``label_events``, ``quarantine``)."""
        return self.audit.store.query(query, with_labels=True)


def open_audit(path: str | Path) -> AuditHandle:
    """Open an audit folder for use from Python."""
    return AuditHandle(Audit.open(Path(path)))
