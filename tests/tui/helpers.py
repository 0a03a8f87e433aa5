"""Small builders shared by the review tests: a fake clock, queues, sessions."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from reviewer.config import Settings
from reviewer.review.queue import Queue
from reviewer.review.session import ReviewSession
from reviewer.store.labels import LabelStore


@dataclass
class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_queue(n: int, name: str = "flagged", prefix: str = "s") -> Queue:
    """``n`` items with ranks 10, 20, 30 … so resume positions are easy to read."""
    ids = [f"{prefix}{i}" for i in range(n)]
    return Queue(name, ids, [10 * (i + 1) for i in range(n)])


def make_session(
    n: int = 5,
    settings: Settings | None = None,
    labels: LabelStore | None = None,
    clock: FakeClock | None = None,
    queue: Queue | None = None,
    reviewer: str = "ana",
) -> tuple[ReviewSession, LabelStore, FakeClock]:
    """A started session over an in-memory label store and a fake clock."""
    labels = labels if labels is not None else LabelStore(None)
    clock = clock if clock is not None else FakeClock()
    session = ReviewSession(
        labels=labels,
        reviewer=reviewer,
        queue=queue if queue is not None else make_queue(n),
        settings=settings if settings is not None else Settings(),
        clock=clock,
    )
    session.start()
    return session, labels, clock


def screen_text(app: Any) -> str:
    """The current screen as plain text (what a terminal of the app's size shows)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)
