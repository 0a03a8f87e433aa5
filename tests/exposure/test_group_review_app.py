"""Groups in the real review app (Pilot): one representative with its count on screen, and
the question about the perceptual group after an escalation (yes and no)."""

from __future__ import annotations

from reviewer.grouping import build_groups
from reviewer.images.preview_cache import PreviewCache
from reviewer.review.groups import load_groups
from reviewer.review.queue import Queue
from reviewer.review.session import ReviewSession
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.near_group_screen import NearGroupScreen
from tests.exposure.conftest import HashAudit
from tests.tui.app_fixtures import SIZE, fake_loader, press, until
from tests.tui.helpers import FakeClock, screen_text


def _app(h: HashAudit) -> ReviewerApp:
    """s00000 (picture 0) with its near copy s00003 and the unrelated s00004, grouped."""
    build_groups(h.audit, "pdq")
    build_groups(h.audit, "sha256")
    queue = Queue("flagged", ["s00000", "s00003", "s00004"], [1, 2, 3])
    session = ReviewSession(h.audit.labels, "ana", queue, h.audit.settings, clock=FakeClock(),
                            groups=load_groups(h.audit))
    session.start()
    return ReviewerApp(h.audit, session, h.audit.settings,
                       previews=PreviewCache(h.audit, loader=fake_loader))


async def test_representative_escalated_yes_quarantines_the_near_copy(hashed: HashAudit) -> None:
    app = _app(hashed)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "near-duplicate in this group" in screen_text(app))
        text = screen_text(app)
        assert "secret caption of s00000" in text and "held back in this queue" in text
        await press(pilot, app, "e", "e")
        await until(pilot, lambda: isinstance(app.screen, NearGroupScreen))
        question = screen_text(app)
        assert "Quarantine the near-duplicates too?" in question
        assert "secret caption" not in question  # the question replaces the item
        await pilot.press("y")
        await until(pilot, lambda: "secret caption of s00004" in screen_text(app))
        assert "quarantined 1 near-duplicates of s00000" in screen_text(app)
    reasons = {r["sample_id"]: r["reason"]
               for r in hashed.audit.labels.quarantine_table().to_pylist()}
    assert reasons["s00000"] == "escalated" and reasons["s00003"].startswith("group:pdq-")


async def test_representative_escalated_no_shows_the_near_copy_as_an_item(
    hashed: HashAudit,
) -> None:
    app = _app(hashed)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "near-duplicate in this group" in screen_text(app))
        await press(pilot, app, "e", "e")
        await until(pilot, lambda: isinstance(app.screen, NearGroupScreen))
        await pilot.press("n")
        await until(pilot, lambda: "secret caption of s00003" in screen_text(app))
        assert "left to be judged" in screen_text(app)
    assert hashed.audit.labels.quarantined_ids() == {"s00000"}
