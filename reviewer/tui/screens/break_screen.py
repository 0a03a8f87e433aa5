"""The break screen: says why a break is due, offers a timed pause or a (logged) snooze.

A reminder that can be dismissed with one key is easy to ignore for hours, and
one that cannot be postponed gets in the way of finishing a judgement. So the
reviewer chooses: a real pause with a countdown (the image is hidden and the
active-time clock stops) or a snooze, which is allowed and written to the
exposure log so an audit lead can see how often breaks were put off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from reviewer.review.wellbeing import SNOOZE_S, BreakDue

if TYPE_CHECKING:
    from reviewer.review.session import ReviewSession


class BreakScreen(Screen[str]):
    """``b`` starts the pause, ``s`` snoozes; after the countdown, enter goes back to work;
    ``q`` ends the session here (a break is a natural moment to stop for the day).

    Dismissed with ``"taken"``, ``"snoozed"`` or ``"quit"`` (the app ends the session).

    Args:
        session: The session whose break this is (it logs and stops the clock).
        due: Why the break is suggested.
        minutes: Length of the pause.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "take", "Take a break"),
        Binding("s", "snooze", "Snooze"),
        Binding("x", "end_early", "End break", show=False),
        Binding("enter", "resume", "Resume", show=False),
        Binding("q", "quit_review", "End session", show=False),
    ]

    def __init__(self, session: ReviewSession, due: BreakDue, minutes: float) -> None:
        super().__init__(id="break")
        self.session = session
        self.due = due
        self.seconds = max(0.0, minutes * 60.0)
        self.state = "offered"
        """``offered``, ``pausing`` (countdown running) or ``over``."""
        self._ends_at = 0.0
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="break-box", classes="dialog"):
            yield Static(Text("Time for a break", style="bold"), markup=False)
            yield Static(Text(self.due.message), id="break-reason", markup=False)
            yield Static(Text(""), id="break-status", markup=False)

    def on_mount(self) -> None:
        self._status(
            f"b: pause for {self.seconds / 60:.0f} min (look away, stretch, drink water) · "
            f"s: snooze {SNOOZE_S / 60:.0f} min · q: end the session"
        )

    def _status(self, text: str) -> None:
        self.query_one("#break-status", Static).update(Text(text))

    def action_take(self) -> None:
        if self.state != "offered":
            return
        self.state = "pausing"
        self.session.start_break()
        self._ends_at = self.session.clock() + self.seconds
        self._ticker = self.set_interval(1.0, self.tick)
        self.tick()

    def tick(self) -> None:
        """Update the countdown; at zero the reviewer may go back."""
        if self.state != "pausing":
            return
        left = self._ends_at - self.session.clock()
        if left > 0:
            minutes, seconds = divmod(int(left + 0.999), 60)
            self._status(
                f"Break: {minutes}:{seconds:02d} left. (x ends the break early, q ends the session)"
            )
            return
        self._over()

    def _over(self) -> None:
        self.state = "over"
        if self._ticker is not None:
            self._ticker.stop()
        self.session.end_break()
        self._status("Break over. Press enter to go back to reviewing, or q to end the session.")

    def action_end_early(self) -> None:
        if self.state == "pausing":
            self._over()

    def action_resume(self) -> None:
        if self.state == "over":
            self.dismiss("taken")

    def action_quit_review(self) -> None:
        """End the session from here (a running pause ends first); the app shows the summary."""
        if self.state == "pausing":
            self._over()
        self.dismiss("quit")

    def action_snooze(self) -> None:
        if self.state != "offered":
            return
        self.session.snooze()
        self.dismiss("snoozed")
