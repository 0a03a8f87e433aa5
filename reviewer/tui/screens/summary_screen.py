"""The session summary, shown on quit or when the daily cap ends the session."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from reviewer.review.summary import Summary
from reviewer.text_safety import neutralise


class SummaryScreen(Screen[None]):
    """Items, time, exposure and breaks of the session; enter, q or escape closes the app.

    Args:
        summary: What the session amounted to.
        message: Why the session ended, when it was not the reviewer's choice (daily cap).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("escape", "close", "Close", show=False),
    ]

    def __init__(self, summary: Summary, message: str | None = None) -> None:
        super().__init__(id="summary")
        self.summary = summary
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="summary-box", classes="dialog"):
            yield Static(Text("Session summary", style="bold"), markup=False)
            if self.message:
                yield Static(Text(neutralise(self.message)), id="summary-message", markup=False)
            yield Static(
                Text(neutralise("\n".join(self.summary.lines()))), id="summary-lines", markup=False
            )
            saved = "Decisions were" if self.summary.unsaved else "Everything was"
            yield Static(
                Text(f"{saved} saved as you went. Press enter to close.", style="dim"),
                markup=False,
            )

    def action_close(self) -> None:
        self.dismiss(None)
