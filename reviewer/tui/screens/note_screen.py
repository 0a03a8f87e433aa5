"""The note dialog: a free-text note stored with the next decision on the current item."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

NOTE_MAX_CHARS = 2_000


class NoteScreen(ModalScreen[str | None]):
    """Enter keeps the note (empty clears it), escape cancels.

    Args:
        note: The note already pending on this item, to edit.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, note: str = "") -> None:
        super().__init__(id="note")
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box", classes="dialog"):
            yield Static(
                Text("Note for this item (saved with your next decision on it)"), markup=False
            )
            yield Input(self.note, max_length=NOTE_MAX_CHARS, id="note-input")
            yield Static(Text("enter: keep · escape: cancel", style="dim"), markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
