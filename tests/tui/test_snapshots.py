"""The review app's layout, as SVG snapshots (pytest-textual-snapshot, Textual's public screenshot).

One class per screen, fixed terminal sizes, a fake clock and a fake image loader, so a
snapshot changes only when the layout does. After a deliberate change, look at the
new pictures and accept them with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.summary_screen import SummaryScreen
from reviewer.tui.widgets.image_panel import ImagePanel
from tests.tui.app_fixtures import SIZE, build_app, press, until

Compare = Callable[..., bool]


def item_ready(app: ReviewerApp) -> Callable[[Pilot[Any]], Any]:
    """Wait until the first item is drawn and its (blurred) image or placeholder is final."""

    async def wait(pilot: Pilot[Any]) -> None:
        def ready() -> bool:
            panel = app.review_screen.query_one(ImagePanel)
            image_final = panel.rendered_image is not None or panel.text_only
            return app.review_screen.drawn == app.session.current_id and image_final

        await until(pilot, ready)

    return wait


class TestReviewScreen:
    def test_caption_reasons_and_a_heavily_blurred_image(
        self, small_audit: Audit, snap_compare: Compare
    ) -> None:
        app = build_app(small_audit)
        assert snap_compare(app, terminal_size=SIZE, run_before=item_ready(app))

    def test_text_only_gives_the_caption_the_width(
        self, small_audit: Audit, snap_compare: Compare
    ) -> None:
        app = build_app(small_audit, Settings.from_dict({"review": {"image_mode": "text-only"}}))
        assert snap_compare(app, terminal_size=SIZE, run_before=item_ready(app))

    def test_a_terminal_too_small_shows_only_a_notice(
        self, small_audit: Audit, snap_compare: Compare
    ) -> None:
        app = build_app(small_audit)
        assert snap_compare(app, terminal_size=(50, 14), run_before=item_ready(app))


class TestSummaryScreen:
    def test_after_one_decision(self, small_audit: Audit, snap_compare: Compare) -> None:
        app = build_app(small_audit)

        async def decide_and_quit(pilot: Pilot[Any]) -> None:
            await item_ready(app)(pilot)
            await press(pilot, app, "y", "q")
            await until(pilot, lambda: isinstance(app.screen, SummaryScreen))

        assert snap_compare(app, terminal_size=SIZE, run_before=decide_and_quit)
