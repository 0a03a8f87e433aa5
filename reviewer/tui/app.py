"""The review app: wires an audit, a review session and the preview cache to the screens.

Built from its parts (``ReviewerApp(audit, session, settings)``) so tests pass a
session with a fake clock and a preview cache with a fake image loader. The app
itself holds no rules: the session decides, the review screen shows.

textual-image chooses its terminal renderer when first imported; the image panel
module imports it, and this module imports the panel, so importing the app
before it runs is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.widget import Widget

from reviewer.config import Settings
from reviewer.images.preview_cache import PreviewCache
from reviewer.review.session import ReviewSession
from reviewer.review.summary import Summary
from reviewer.tui.keymap import validate_keymap
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
        self.keys = validate_keymap(settings.keys)
        if previews is None and settings.review.image_mode != "text-only":
            previews = PreviewCache(audit)
        self.previews = previews
        self.renderer = renderer
        self.review_screen = ReviewScreen(audit, session, previews, renderer)
        self._finishing = False

    def on_mount(self) -> None:
        self.set_keymap(self.keys)
        self.push_screen(self.review_screen)

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
