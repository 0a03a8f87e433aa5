"""The caption view: caption first, then why the item was flagged, then metadata.

Reviewers decide from the caption and the *specific* flag reasons before they
ever reveal an image, so the caption is shown in full (wrapped, scrollable) at
the top, and the reasons and metadata stay in view below it however long the
caption is. Everything here is data from the web (captions, URLs, even reasons
quote matched text), so every string goes through
:func:`reviewer.text_safety.caption_text`: no markup is parsed, no escape
sequence reaches the terminal, invisible characters are made visible.

Wrapping is the costly part of showing text in Textual (a 20,000-character caption
took ~120 ms per item here, a 2,000-character one ~40 ms), so a long caption is
shown a page at a time: the first
``caption_page_chars`` at once, more each time the reviewer scrolls to the end,
up to ``caption_max_chars``; the rest is counted in a visible marker.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from reviewer.text_safety import caption_text

CAPTION_PAGE_CHARS = 2_000
"""Caption characters shown at first and added per scroll to the end (a screenful or two;
LAION captions are almost all far shorter, so a new item appears without a wrapping delay)."""
CAPTION_MAX_CHARS = 20_000
"""Caption characters ever displayed; longer captions (up to 1 MB in LAION) end in a marker."""
FIELD_MAX_CHARS = 500
"""Characters displayed of one flag reason or metadata value."""
NO_CAPTION = "(no caption)"
MORE_HINT = " — scroll down for more"


class CaptionView(Widget):
    """The caption (scrollable), the flag reasons and the metadata of one sample, as inert text."""

    DEFAULT_CSS = """
    CaptionView {
        height: 1fr;
        width: 1fr;
        layout: vertical;
    }
    CaptionView > #caption-scroll {
        height: 1fr;
        width: 1fr;
    }
    CaptionView #caption-text {
        width: 1fr;
        padding: 0 1;
    }
    CaptionView > #caption-reasons {
        width: 1fr;
        height: auto;
        max-height: 50%;
        padding: 1 1 0 1;
        color: $warning;
    }
    CaptionView > #caption-meta {
        width: 1fr;
        height: auto;
        max-height: 40%;
        padding: 1 1 0 1;
        color: $text-muted;
    }
    """

    caption_page_chars: int = CAPTION_PAGE_CHARS
    caption_max_chars: int = CAPTION_MAX_CHARS
    field_max_chars: int = FIELD_MAX_CHARS

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._caption: str | None = None
        self._shown_chars = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="caption-scroll"):
            yield Static(Text(""), id="caption-text", markup=False)
        yield Static(Text(""), id="caption-reasons", markup=False)
        yield Static(Text(""), id="caption-meta", markup=False)

    def on_mount(self) -> None:
        self.watch(self.scroller, "scroll_y", self._scrolled, init=False)

    @property
    def scroller(self) -> VerticalScroll:
        """The scrolling container of the caption."""
        return self.query_one("#caption-scroll", VerticalScroll)

    def show(self, text: str | None, reasons: list[str], meta: dict[str, str]) -> None:
        """Show one sample.

        Args:
            text: The caption (None or empty shows "(no caption)").
            reasons: The specific reasons it was flagged, e.g. ``keyword: "porn" in URL``.
            meta: Label -> value, e.g. ``{"dataset": "laion400m", "domain": "example.org"}``.
        """
        self._caption = str(text) if text else None
        self._shown_chars = self.caption_page_chars
        self._update_caption()
        self.query_one("#caption-reasons", Static).update(self.reasons_renderable(reasons))
        self.query_one("#caption-meta", Static).update(self.meta_renderable(meta))
        self.scroller.scroll_home(animate=False)

    def show_more(self) -> bool:
        """Show the next page of a long caption; False when nothing more can be shown."""
        if not self.has_more:
            return False
        self._shown_chars = min(self._shown_chars + self.caption_page_chars, self.caption_max_chars)
        self._update_caption()
        return True

    @property
    def has_more(self) -> bool:
        """Whether more of the caption can be displayed (below ``caption_max_chars``)."""
        length = len(self._caption or "")
        return length > self._shown_chars and self._shown_chars < self.caption_max_chars

    def caption_renderable(self, text: str | None, max_chars: int | None = None) -> Text:
        """The caption as inert Rich text, cut at ``max_chars`` (default ``caption_max_chars``)."""
        if not text:
            return Text(NO_CAPTION, style="dim italic")
        limit = self.caption_max_chars if max_chars is None else max_chars
        return caption_text(str(text), min(limit, self.caption_max_chars))

    def reasons_renderable(self, reasons: list[str]) -> Text:
        """One line per reason, each neutralised."""
        if not reasons:
            return Text("not flagged", style="dim")
        out = Text("flagged because:", style="bold")
        for reason in reasons:
            out.append("\n• ")
            out.append_text(caption_text(str(reason), self.field_max_chars))
        return out

    def meta_renderable(self, meta: dict[str, str]) -> Text:
        """``label: value`` lines, labels and values neutralised."""
        out = Text()
        for i, (label, value) in enumerate(meta.items()):
            if i:
                out.append("\n")
            out.append_text(caption_text(str(label), 60))
            out.append(": ")
            out.append_text(caption_text(str(value), self.field_max_chars))
        return out

    def _update_caption(self) -> None:
        shown = self.caption_renderable(self._caption, self._shown_chars)
        if self.has_more:
            shown.append(MORE_HINT, style="italic dim")
        self.query_one("#caption-text", Static).update(shown)

    def _scrolled(self, scroll_y: float) -> None:
        """Reaching the end of a long caption shows its next page."""
        if self.has_more and scroll_y >= self.scroller.max_scroll_y - 1:
            self.show_more()


__all__ = [
    "CAPTION_MAX_CHARS",
    "CAPTION_PAGE_CHARS",
    "FIELD_MAX_CHARS",
    "CaptionView",
]
