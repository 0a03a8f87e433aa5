"""Building a review app on a small on-disk audit, and waiting for it without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from PIL import Image
from textual.pilot import Pilot
from textual_image.widget import HalfcellImage

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.images.preview_cache import PreviewCache
from reviewer.review.queue import load_queue
from reviewer.review.session import ReviewSession
from reviewer.tui.app import ReviewerApp
from tests.conftest import sample_rows
from tests.tui.helpers import FakeClock

SIZE = (120, 40)
CORRUPT = "s00004"
"""A sample whose image decoding fails, as a truncated JPEG would."""


def fake_loader(audit: Audit, sample: dict[str, Any]) -> Image.Image:
    """A small synthetic image per sample; one corrupt sample."""
    if sample["sample_id"] == CORRUPT:
        raise OSError("image file is truncated")
    shade = int(str(sample["sample_id"])[-2:]) * 7 % 255
    return Image.new("RGB", (96, 64), (shade, 255 - shade, 90))


def build_audit(root: Path, n: int = 12, rows: list[dict[str, Any]] | None = None) -> Audit:
    """An audit with ``n`` LAION-shaped rows (two in three flagged by their NSFW tag)."""
    audit = Audit.init(root)
    table = pa.Table.from_pylist(rows if rows is not None else sample_rows(n))
    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, table)
    return audit


def build_app(
    audit: Audit,
    settings: Settings | None = None,
    reviewer: str = "ana",
    clock: FakeClock | None = None,
    queue: str | None = None,
) -> ReviewerApp:
    """The real app over ``audit`` with a fake image loader and an explicit renderer."""
    if settings is not None:
        audit.settings = settings
    session = ReviewSession(
        audit.labels,
        reviewer,
        load_queue(audit, reviewer, queue),
        audit.settings,
        clock=clock if clock is not None else FakeClock(),
    )
    session.start()
    previews = None
    if audit.settings.review.image_mode != "text-only":
        previews = PreviewCache(audit, loader=fake_loader)
    return ReviewerApp(audit, session, audit.settings, previews=previews, renderer=HalfcellImage)


def settled(app: ReviewerApp) -> bool:
    """Whether a reviewer could act now: the current item is drawn, or another screen shows."""
    screen = app.review_screen
    sid = app.session.current_id
    return app.screen is not screen or sid is None or screen.drawn == sid


async def press(pilot: Pilot[Any], app: ReviewerApp, *keys: str) -> None:
    """Press keys one at a time as a reviewer would: each once the screen has settled.

    The review screen refuses decisions on an item not yet drawn, and Pilot does not wait
    for a redraw between keys, so tests that type ahead would race the renderer.
    """
    for key in keys:
        await until(pilot, lambda: settled(app))
        await pilot.press(key)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (fails the test after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


def current_labels(audit: Audit) -> list[dict[str, Any]]:
    """Standing labels, as stored."""
    rows: list[dict[str, Any]] = audit.labels.current_labels().to_pylist()
    return rows


def exposure_kinds(audit: Audit) -> list[str]:
    """Exposure log kinds in order."""
    return [r["kind"] for r in audit.labels.exposure().to_pylist()]
