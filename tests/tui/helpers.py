"""Small builders shared by the review tests: a fake clock, queues, sessions."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

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


CELL_WIDTH = 12.2
"""Pixels per column in Textual's SVG screenshot (Rich: 0.61 × its 20 px font)."""
_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^"]*-line-(\d+)\)">(.*?)</text>',
    re.S,
)


def screen_lines(app: Any) -> list[str]:
    """The characters on screen, line by line, read from Textual's public SVG screenshot
    (``App.export_screenshot``): what a terminal of the app's size shows."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, line, text in _SVG_TEXT.findall(app.export_screenshot()):
        row, col = int(line), round(float(x) / CELL_WIDTH)
        for i, char in enumerate(html.unescape(text).replace("\xa0", " ").rstrip("\n")):
            if row < height and 0 <= col + i < width:
                rows[row][col + i] = char
    return ["".join(r).rstrip() for r in rows]


def screen_text(app: Any) -> str:
    """The current screen as plain text."""
    return "\n".join(screen_lines(app))
