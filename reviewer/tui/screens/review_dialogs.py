"""The review screen's dialogs and interruptions: category, note, stats, help, breaks, quit.

Kept apart from :mod:`reviewer.tui.screens.review_screen` so that file stays about
showing items and deciding; these methods only push a screen and hand its result
to the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewer.errors import ReviewerError
from reviewer.tui import keymap

if TYPE_CHECKING:
    from textual.app import App

    from reviewer.audit import Audit
    from reviewer.review.session import ReviewSession


class DialogActions:
    """Mixin of :class:`~reviewer.tui.screens.review_screen.ReviewScreen`."""

    audit: Audit
    session: ReviewSession

    if TYPE_CHECKING:
        app: App[Any]

        def say(self, text: str) -> None: ...

        def show_current(self) -> None: ...

        def _disarm(self) -> None: ...

    def action_category(self) -> None:
        from reviewer.tui.screens.category_screen import CategoryScreen

        self._disarm()
        screen = CategoryScreen(
            self.audit.settings.review.categories, self.session.category, self.session.subtags
        )
        self.app.push_screen(screen, self._category_chosen)

    def _category_chosen(self, choice: tuple[str, tuple[str, ...]] | None) -> None:
        if choice is None:
            return
        try:
            self.session.set_category(*choice)
        except ReviewerError as exc:
            self.say(exc.one_line())
        self.show_current()

    def action_note(self) -> None:
        from reviewer.tui.screens.note_screen import NoteScreen

        self._disarm()
        if self.session.current_id is None:
            self.say("nothing to attach a note to: the queue is finished")
            return
        self.app.push_screen(NoteScreen(self.session.note or ""), self._note_written)

    def _note_written(self, note: str | None) -> None:
        if note is None:
            return
        self.session.set_note(note)
        self.say("note kept for the next decision on this item" if note.strip() else "")
        self.show_current()

    def action_stats(self) -> None:
        self._disarm()
        try:
            from reviewer.tui.screens.stats_screen import StatsScreen
        except ImportError:
            self.say("the statistics screen is not available in this build (use `reviewer stats`)")
            return
        self.session.hide()
        self.app.push_screen(StatsScreen(self.audit))

    def action_help(self) -> None:
        from reviewer.tui.screens.help_screen import HelpScreen

        self._disarm()
        self.app.push_screen(HelpScreen(keymap.effective_keys(self.audit.settings.keys)))

    def action_quit_review(self) -> None:
        self._disarm()
        finish: Any = getattr(self.app, "finish", None)
        if finish is not None:
            finish()
        else:
            self.app.exit()

    # ---- wellbeing --------------------------------------------------------------------------

    def _wellbeing_stop(self) -> bool:
        """At an item boundary: end the day at the cap, or offer a due break."""
        cap = self.session.cap_reached()
        if cap is not None:
            self.session.log_cap()
            finish: Any = getattr(self.app, "finish", None)
            if finish is not None:
                finish(cap)
            return True
        due = self.session.break_due()
        if due is not None:
            from reviewer.tui.screens.break_screen import BreakScreen

            minutes = self.audit.settings.wellbeing.break_minutes
            self.app.push_screen(BreakScreen(self.session, due, minutes))
            return True
        return False
