"""The ``?`` help screen: every action with the key it is bound to now (after remapping)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewer.tui.keymap import ACTIONS, key_label


class HelpScreen(ModalScreen[None]):
    """Keys and what they do; any of escape, q or ? closes it.

    Args:
        keys: Binding id -> key, as remapped by ``[keys]`` in reviewer.toml.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, keys: dict[str, str]) -> None:
        super().__init__(id="help")
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_column(style="dim")
        for action in ACTIONS:
            table.add_row(
                key_label(self.keys.get(action.id, action.key)), action.label, action.help
            )
        with Vertical(id="help-box", classes="dialog"):
            yield Static(Text("Keys", style="bold"), markup=False)
            yield Static(table, id="help-table")
            yield Static(
                Text(
                    "Decide from the caption and the flag reasons first; reveal only when "
                    'you must. Remap keys by id in reviewer.toml, e.g. [keys] confirm = "j". '
                    "Press escape to go back."
                ),
                markup=False,
            )

    def action_close(self) -> None:
        self.dismiss(None)
