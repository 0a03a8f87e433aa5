"""The category dialog: file decisions under nsfw, hate (with sub-tags), privacy or other.

Digits pick a category. ``hate`` has pysentimiento's three sub-labels, which the
reviewer toggles with their initials before pressing enter, so a confirmed hate
flag says *which* kind of hate it is.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewer.review.session import HATE_SUBTAGS

Choice = tuple[str, tuple[str, ...]]


class CategoryScreen(ModalScreen[Choice | None]):
    """Pick a category (1-9), toggle hate sub-tags (h/t/a), enter to keep, escape to cancel.

    Args:
        categories: The audit's categories.
        current: The category in use.
        subtags: Sub-tags already chosen for the current item.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "keep", "Keep"),
    ]

    def __init__(self, categories: list[str], current: str, subtags: tuple[str, ...]) -> None:
        super().__init__(id="category")
        self.categories = categories[:9]
        self.choice = current
        self.subtags = set(subtags)

    def compose(self) -> ComposeResult:
        with Vertical(id="category-box", classes="dialog"):
            yield Static(Text(""), id="category-list", markup=False)
            yield Static(Text(""), id="category-subtags", markup=False)
            yield Static(
                Text(
                    "1-9: category · h/t/a: hate sub-tags · enter: keep · escape: cancel",
                    style="dim",
                ),
                markup=False,
            )

    def on_mount(self) -> None:
        self._render_choice()

    def _render_choice(self) -> None:
        lines = Text()
        for i, name in enumerate(self.categories, start=1):
            mark = "●" if name == self.choice else "○"
            lines.append(f"{mark} {i} {name}\n", style="bold" if name == self.choice else "")
        self.query_one("#category-list", Static).update(lines)
        tags = Text()
        if self.choice == "hate":
            for tag in HATE_SUBTAGS:
                mark = "[x]" if tag in self.subtags else "[ ]"
                tags.append(f"{mark} {tag[0]} {tag}   ")
        self.query_one("#category-subtags", Static).update(tags)

    def on_key(self, event: Key) -> None:
        key = event.key
        if key.isdigit() and 1 <= int(key) <= len(self.categories):
            self.choice = self.categories[int(key) - 1]
            if self.choice != "hate":
                self.subtags.clear()
        elif self.choice == "hate" and key in {t[0] for t in HATE_SUBTAGS}:
            tag = next(t for t in HATE_SUBTAGS if t[0] == key)
            self.subtags ^= {tag}
        else:
            return
        event.stop()
        self._render_choice()

    def action_keep(self) -> None:
        ordered = tuple(t for t in HATE_SUBTAGS if t in self.subtags)
        self.dismiss((self.choice, ordered if self.choice == "hate" else ()))

    def action_cancel(self) -> None:
        self.dismiss(None)
