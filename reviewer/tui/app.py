"""The review app: wires an audit, a review session and the preview cache to the screens.

Built from its parts (``ReviewerApp(audit, session, settings)``) so tests pass a
session with a fake clock and a preview cache with a fake image loader. The app
holds no review rules (the session decides, the review screen shows) but owns the
flows around reviewing: help, statistics, breaks, quitting and the end of the
session. Screens post a message for each; only the app switches screens for them.

textual-image chooses its terminal renderer when first imported; the image panel
module imports it, and this module imports the panel, so importing the app
before it runs is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.widget import Widget

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.images.preview_cache import PreviewCache
from reviewer.review.session import NearGroupQuestion, ReviewSession
from reviewer.review.summary import Summary
from reviewer.tui import keymap
from reviewer.tui.screens.review_screen import ReviewScreen
from reviewer.tui.screens.summary_screen import SummaryScreen

if TYPE_CHECKING:
    from reviewer.audit import Audit


class ReviewerApp(App[Summary | None]):
    """Review one queue of one audit; returns the session :class:`Summary` on exit.

    Args:
        audit: The opened audit.
        session: A started :class:`ReviewSession`.
        settings: The audit's settings (key map, image mode).
        previews: The preview cache; by default one over ``audit`` (none in text-only mode).
        renderer: A textual-image widget class to force (tests, benchmarks).
    """

    CSS_PATH = "app.tcss"
    TITLE = "reviewer"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        audit: Audit,
        session: ReviewSession,
        settings: Settings,
        previews: PreviewCache | None = None,
        renderer: type[Widget] | None = None,
    ) -> None:
        super().__init__()
        self.audit = audit
        self.session = session
        self.settings = settings
        self._keymap = {}
        self.keys = keymap.validate_keymap(settings.keys)
        if previews is None and settings.review.image_mode != "text-only":
            previews = PreviewCache(audit)
        self.previews = previews
        self.renderer = renderer
        self.review_screen = ReviewScreen(audit, session, previews, renderer)
        self._finishing = False

    def on_mount(self) -> None:
        self.set_keymap(self.keys)
        self.push_screen(self.review_screen)

    # ---- flows the review screen asks for ---------------------------------------------

    def on_review_screen_help_requested(self, _: ReviewScreen.HelpRequested) -> None:
        from reviewer.tui.screens.help_screen import HelpScreen

        self.push_screen(HelpScreen(keymap.effective_keys(self.settings.keys)))

    def on_review_screen_stats_requested(self, _: ReviewScreen.StatsRequested) -> None:
        from reviewer.tui.screens.stats_screen import StatsScreen

        self.session.hide()  # the statistics replace the item: its reveal ends here
        self.push_screen(StatsScreen(self.audit))

    def on_review_screen_quit_requested(self, _: ReviewScreen.QuitRequested) -> None:
        self.finish()

    def on_review_screen_break_needed(self, message: ReviewScreen.BreakNeeded) -> None:
        from reviewer.tui.screens.break_screen import BreakScreen

        minutes = self.settings.wellbeing.break_minutes
        self.push_screen(BreakScreen(self.session, message.due, minutes), self._break_over)

    def _break_over(self, result: str | None) -> None:
        """The break screen closed: back to reviewing, or the session ends there."""
        if result == "quit":
            self.finish()

    def on_review_screen_near_group_asked(self, message: ReviewScreen.NearGroupAsked) -> None:
        from reviewer.tui.screens.near_group_screen import NearGroupScreen

        question = message.question
        self.push_screen(
            NearGroupScreen(question), lambda answer: self._near_group_answered(question, answer)
        )

    def _near_group_answered(self, question: NearGroupQuestion, answer: bool | None) -> None:
        """Quarantine the perceptual group (yes) or leave it (no); the review screen then
        shows whatever item is current."""
        try:
            count = self.session.answer_near_group(bool(answer))
        except ReviewerError as exc:
            self.review_screen.say(f"group NOT quarantined: {exc.one_line()}")
            return
        if count and self.previews is not None:
            for member in question.members:
                self.previews.forget(member)
        sid, group = question.sample_id, question.group_id
        self.review_screen.say(
            f"quarantined {count} near-duplicates of {sid} (group:{group})"
            if answer else f"near-duplicates of {sid} left to be judged"
        )

    def on_review_screen_day_over(self, message: ReviewScreen.DayOver) -> None:
        self.session.log_cap()
        self.finish(message.reason)

    # ---- the end ----------------------------------------------------------------------

    def finish(self, message: str | None = None) -> None:
        """End the session (logged, position saved) and show its summary before leaving."""
        if self._finishing:
            return
        self._finishing = True
        summary = self.session.end()
        self.push_screen(SummaryScreen(summary, message), lambda _: self.exit(summary))

    def on_unmount(self) -> None:
        self.session.end()
        if self.previews is not None:
            self.previews.close()
