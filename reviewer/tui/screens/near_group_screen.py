"""After an escalation: ask whether to quarantine the escalated item's perceptual group too.

Exact copies (the same bytes) are quarantined with the escalation, without asking:
they are the same picture. Near-duplicates (by PDQ hash or CLIP embedding) are usually
re-posts of it,
but can be a different picture (a crop, another frame of a video), so the reviewer
decides. The question replaces the review screen, so no image shows behind it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from reviewer.review.session import NearGroupQuestion

_HOW = {"pdq": "similar pictures by PDQ hash", "clip": "similar pictures by CLIP embedding"}
"""How the perceptual grouping (the prefix of its group ids) found the members."""


class NearGroupScreen(Screen[bool]):
    """``y`` quarantines the remaining members of the group, ``n`` (or escape) does nothing
    more. Dismissed with the answer; the app passes it to the session.

    Args:
        question: What the session asks (the item, its group, the members left).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quarantine the group"),
        Binding("n", "answer(False)", "Leave them to be judged"),
        Binding("escape", "answer(False)", "Leave them", show=False),
    ]

    def __init__(self, question: NearGroupQuestion) -> None:
        super().__init__(id="near-group")
        self.question = question

    def compose(self) -> ComposeResult:
        q = self.question
        n = len(q.members)
        how = _HOW.get(q.group_id.split("-")[0], "similar pictures")
        exact = (
            f" and its {q.exact_copies} exact cop{'ies' if q.exact_copies != 1 else 'y'}"
            if q.exact_copies else ""
        )
        with Vertical(id="near-group-box", classes="dialog"):
            yield Static(Text("Quarantine the near-duplicates too?", style="bold"), markup=False)
            yield Static(
                Text(
                    f"{q.sample_id}{exact} {'are' if exact else 'is'} escalated and quarantined. "
                    f"Its perceptual group {q.group_id} holds {n} more "
                    f"near-duplicate{'s' if n != 1 else ''} ({how}, "
                    "possibly resized or re-compressed, possibly a different picture)."
                ),
                id="near-group-text",
                markup=False,
            )
            yield Static(
                Text(
                    f"y: quarantine {'them' if n != 1 else 'it'} too, for everyone, unseen · "
                    "n: leave them to be judged one by one"
                ),
                markup=False,
            )

    def action_answer(self, quarantine: bool) -> None:
        self.dismiss(quarantine)
