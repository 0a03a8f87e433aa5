"""A session's exposure events, written as they happen or kept and retried when the disk is full.

Reveals, seconds revealed, breaks and confirmations are written to the label store
one by one. A full disk must not end the session in the middle of a judgement (the
review app would crash and take its summary with it), nor silently lose what the
reviewer was exposed to: an event that cannot be written is kept in memory with
its own time and written, in order, before the next one. What is still unwritten
is said on screen and in the session summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.errors import ReviewerError
from reviewer.store.labels import LabelStore


@dataclass(frozen=True)
class _Event:
    kind: str
    sample_id: str | None
    depth: int | None
    seconds: float | None
    at: str


class ExposureLog:
    """Exposure events of one reviewer's session.

    Args:
        labels: The label store that keeps the exposure log.
        reviewer: Whose exposure it is.
        session_id: The session the events belong to.
    """

    def __init__(self, labels: LabelStore, reviewer: str, session_id: str) -> None:
        self.labels = labels
        self.reviewer = reviewer
        self.session_id = session_id
        self._pending: list[_Event] = []
        self.problem: str | None = None
        """Why the last write failed, while events wait to be written."""

    def write(
        self,
        kind: str,
        sample_id: str | None = None,
        depth: int | None = None,
        seconds: float | None = None,
    ) -> bool:
        """Log one event now (after any kept ones); False when it had to be kept instead."""
        self._pending.append(_Event(kind, sample_id, depth, seconds, self.labels.timestamp()))
        return self.flush()

    def flush(self) -> bool:
        """Write the kept events, oldest first; False (and :attr:`problem` set) on failure."""
        while self._pending:
            event = self._pending[0]
            try:
                self.labels.log_exposure(
                    self.reviewer,
                    event.kind,
                    self.session_id,
                    sample_id=event.sample_id,
                    depth=event.depth,
                    seconds=event.seconds,
                    at=event.at,
                )
            except ReviewerError as exc:
                self.problem = exc.one_line()
                return False
            self._pending.pop(0)
        self.problem = None
        return True

    @property
    def unsaved(self) -> int:
        """Events not written yet."""
        return len(self._pending)
