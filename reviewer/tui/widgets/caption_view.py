"""The caption view: caption first, then why the item was flagged, then metadata.

Reviewers decide from the caption and the *specific* flag reasons before they
ever reveal an image, so the caption is shown in full (wrapped, scrollable) at
the top. Everything here is data from the web (captions, URLs, even reasons
quote matched text), so every string goes through
:func:`reviewer.text_safety.caption_text`: no markup is parsed, no escape
sequence reaches the terminal, invisible characters are made visible. Huge
captions are cut for display with a visible "… (N more characters)" marker.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from reviewer.text_safety import caption_text

CAPTION_MAX_CHARS = 20_000
"""Caption characters displayed; longer captions are cut with a marker (a 1 MB caption
would make wrapping slow and bury the flag reasons)."""
FIELD_MAX_CHARS = 500
"""Characters displayed of one flag reason or metadata value."""
NO_CAPTION = "(no caption)"


class CaptionView(VerticalScroll):
    """Scrollable caption, flag reasons and metadata of one sample, all shown as inert text."""

    DEFAULT_CSS = """
    CaptionView {
        height: 1fr;
        width: 1fr;
    }
    CaptionView > #caption-text {
        width: 1fr;
        padding: 0 1;
    }
    CaptionView > #caption-reasons {
        width: 1fr;
        padding: 1 1 0 1;
        color: $warning;
    }
    CaptionView > #caption-meta {
        width: 1fr;
        padding: 1 1 0 1;
        color: $text-muted;
    }
    """

    caption_max_chars: int = CAPTION_MAX_CHARS
    field_max_chars: int = FIELD_MAX_CHARS

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="caption-text", markup=False)
        yield Static(Text(""), id="caption-reasons", markup=False)
        yield Static(Text(""), id="caption-meta", markup=False)

    def show(self, text: str | None, reasons: list[str], meta: dict[str, str]) -> None:
        """Show one sample.

        Args:
            text: The caption (None or empty shows "(no caption)").
            reasons: The specific reasons it was flagged, e.g. ``keyword: "porn" in URL``.
            meta: Label -> value, e.g. ``{"dataset": "laion400m", "domain": "example.org"}``.
        """
        self.query_one("#caption-text", Static).update(self.caption_renderable(text))
        self.query_one("#caption-reasons", Static).update(self.reasons_renderable(reasons))
        self.query_one("#caption-meta", Static).update(self.meta_renderable(meta))
        self.scroll_home(animate=False)

    def caption_renderable(self, text: str | None) -> Text:
        """The caption as inert Rich text (cut at ``caption_max_chars``)."""
        if not text:
            return Text(NO_CAPTION, style="dim italic")
        return caption_text(str(text), self.caption_max_chars)

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


__all__ = ["CAPTION_MAX_CHARS", "FIELD_MAX_CHARS", "CaptionView"]
