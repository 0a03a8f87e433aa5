"""Break and exposure rules that protect the reviewer, in plain Python with an injected clock.

Auditors of LAION-400M described nausea, headaches and lost sleep after days of
this work, and content moderators report lasting distress. The rules here are
the product's answer: count what the reviewer was exposed to, suggest a real
break after a stretch of active work or after a run of harmful material
(whichever comes first), log snoozes honestly, and end the day politely at a
cap. They live outside the UI so that every threshold is tested with a fake
clock, without Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reviewer.config import WellbeingSection
from reviewer.store.labels import LabelStore

IDLE_GAP_S = 120.0
"""A pause between two actions longer than this is not counted as active reviewing."""
SNOOZE_S = 300.0
"""A snooze postpones a time-based reminder by this many seconds of active work ..."""
SNOOZE_COUNT = 5
"""... and an exposure-based reminder by this many more reveals or confirmations ..."""
SNOOZE_FULL_COLOUR_S = 30.0
"""... or by this many more seconds in full colour."""


@dataclass
class Exposure:
    """What one session exposed the reviewer to, for the summary and the log."""

    reveals: int = 0
    max_depth: int = 0
    revealed_seconds: float = 0.0
    full_colour_seconds: float = 0.0
    confirmed: int = 0
    breaks_taken: int = 0
    breaks_snoozed: int = 0
    active_seconds: float = 0.0


@dataclass(frozen=True)
class DailyExposure:
    """Exposure earlier today (other sessions), read from the exposure log at start."""

    reveals: int = 0
    minutes: float = 0.0
    full_colour_seconds: float = 0.0


@dataclass(frozen=True)
class BreakDue:
    """Why a break is suggested now."""

    reason: str
    """``time``, ``reveals``, ``full_colour`` or ``confirmed``."""
    message: str


@dataclass
class _SinceBreak:
    """Counters since the last break, and the thresholds (moved by snoozes)."""

    active_s: float = 0.0
    reveals: int = 0
    confirmed: int = 0
    full_colour_s: float = 0.0
    due_active_s: float = 0.0
    due_reveals: int = 0
    due_confirmed: int = 0
    due_full_colour_s: float = 0.0


@dataclass
class Wellbeing:
    """Exposure counters, break reminders and the daily cap of one reviewing session.

    Call :meth:`activity` on every keypress (it accumulates active time, ignoring
    idle gaps), :meth:`revealed` and :meth:`confirmed_harmful` as they happen, and
    ask :meth:`break_due` / :meth:`cap_reached` at item boundaries, so a reminder
    never interrupts a judgement half-made.

    Args:
        settings: The ``[wellbeing]`` section of ``reviewer.toml``.
        clock: Monotonic seconds; tests pass a fake one.
        today: Exposure from earlier sessions today, counted towards the daily cap.
    """

    settings: WellbeingSection
    clock: Callable[[], float]
    today: DailyExposure = field(default_factory=DailyExposure)
    session: Exposure = field(default_factory=Exposure)

    def __post_init__(self) -> None:
        self._last_activity = self.clock()
        self._since = self._fresh_counters()
        self._paused = False

    def _fresh_counters(self) -> _SinceBreak:
        s = self.settings
        return _SinceBreak(
            due_active_s=s.break_every_minutes * 60.0,
            due_reveals=s.break_after_reveals,
            due_confirmed=s.break_after_confirmed,
            due_full_colour_s=s.break_after_full_colour_seconds,
        )

    # ---- events ---------------------------------------------------------------

    def activity(self) -> None:
        """Count the time since the previous action as active, unless it was an idle gap."""
        now = self.clock()
        gap = now - self._last_activity
        self._last_activity = now
        if self._paused or gap <= 0 or gap > IDLE_GAP_S:
            return
        self.session.active_seconds += gap
        self._since.active_s += gap

    def revealed(self, depth: int) -> None:
        """The reviewer revealed an image one step further, to ``depth``."""
        self.session.reveals += 1
        self.session.max_depth = max(self.session.max_depth, depth)
        self._since.reveals += 1

    def revealed_for(self, seconds: float) -> None:
        """An image was shown beyond the default step for ``seconds``."""
        self.session.revealed_seconds += max(0.0, seconds)

    def full_colour_for(self, seconds: float) -> None:
        """An image was shown in full colour (the last reveal step) for ``seconds``: counted
        when it is hidden or left, so the rules see it at the next item boundary."""
        self.session.full_colour_seconds += max(0.0, seconds)
        self._since.full_colour_s += max(0.0, seconds)

    def confirmed_harmful(self) -> None:
        """The reviewer confirmed an item as harmful."""
        self.session.confirmed += 1
        self._since.confirmed += 1

    def confirmation_undone(self) -> None:
        """The reviewer undid a confirmation: it no longer counts (it was a slip of the key)."""
        self.session.confirmed = max(0, self.session.confirmed - 1)
        self._since.confirmed = max(0, self._since.confirmed - 1)

    # ---- breaks ---------------------------------------------------------------

    def break_due(self) -> BreakDue | None:
        """The first rule that asks for a break now, or ``None``; 0 in a setting turns it off."""
        s, since = self.settings, self._since
        if s.break_every_minutes > 0 and since.active_s >= since.due_active_s:
            minutes = round(since.active_s / 60)
            return BreakDue("time", f"You have been reviewing for {minutes} minutes.")
        if s.break_after_reveals > 0 and since.reveals >= since.due_reveals:
            return BreakDue(
                "reveals", f"You have revealed {since.reveals} images since your last break."
            )
        if (
            s.break_after_full_colour_seconds > 0
            and since.full_colour_s >= since.due_full_colour_s
        ):
            return BreakDue(
                "full_colour",
                f"You have seen images in full colour for {since.full_colour_s:.0f} seconds "
                "since your last break.",
            )
        if s.break_after_confirmed > 0 and since.confirmed >= since.due_confirmed:
            return BreakDue(
                "confirmed",
                f"You have confirmed {since.confirmed} harmful items since your last break.",
            )
        return None

    def start_break(self) -> None:
        """A break begins: time stops counting as active."""
        self._paused = True
        self.session.breaks_taken += 1

    def end_break(self) -> None:
        """The break is over: counters since the last break start again from zero."""
        self._paused = False
        self._last_activity = self.clock()
        self._since = self._fresh_counters()

    def snooze(self) -> None:
        """Postpone the reminder a little; the snooze is counted (and logged by the caller)."""
        since = self._since
        since.due_active_s = max(since.due_active_s, since.active_s + SNOOZE_S)
        since.due_reveals = max(since.due_reveals, since.reveals + SNOOZE_COUNT)
        since.due_confirmed = max(since.due_confirmed, since.confirmed + SNOOZE_COUNT)
        since.due_full_colour_s = max(
            since.due_full_colour_s, since.full_colour_s + SNOOZE_FULL_COLOUR_S
        )
        self.session.breaks_snoozed += 1

    # ---- daily cap --------------------------------------------------------------

    def reveals_today(self) -> int:
        """Reveals today, this session included."""
        return self.today.reveals + self.session.reveals

    def minutes_today(self) -> float:
        """Active minutes today, this session included."""
        return self.today.minutes + self.session.active_seconds / 60.0

    def full_colour_seconds_today(self) -> float:
        """Seconds in full colour today, this session included (ended reveals)."""
        return self.today.full_colour_seconds + self.session.full_colour_seconds

    def cap_reached(self) -> str | None:
        """A polite sentence when today's exposure cap is reached, else ``None``."""
        s = self.settings
        if s.daily_reveal_cap > 0 and self.reveals_today() >= s.daily_reveal_cap:
            return (
                f"You have revealed {self.reveals_today()} images today, the daily limit of "
                f"this audit ({s.daily_reveal_cap}). That is enough for today."
            )
        full = self.full_colour_seconds_today()
        if s.daily_full_colour_seconds_cap > 0 and full >= s.daily_full_colour_seconds_cap:
            return (
                f"You have seen images in full colour for {full:.0f} seconds today, the daily "
                f"limit of this audit ({s.daily_full_colour_seconds_cap:.0f}). "
                "That is enough for today."
            )
        if s.daily_minutes_cap > 0 and self.minutes_today() >= s.daily_minutes_cap:
            return (
                f"You have reviewed for {self.minutes_today():.0f} minutes today, the daily "
                f"limit of this audit ({s.daily_minutes_cap:.0f}). That is enough for today."
            )
        return None


def start_of_local_day(now: datetime) -> str:
    """Local midnight of ``now``'s day as the UTC ISO string the exposure log uses."""
    local = now.astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).isoformat(timespec="microseconds")


def load_today(labels: LabelStore, reviewer: str, now: datetime) -> DailyExposure:
    """Sum the reviewer's exposure log since local midnight: reveals, minutes reviewed and
    seconds in full colour.

    Minutes come from ``session_end`` events (seconds of active reviewing), so a
    session that was killed counts its reveals but not its minutes; full-colour time
    is logged per item as it ends, so a killed session loses at most the item on screen.
    """
    rows = labels.exposure(reviewer=reviewer, since=start_of_local_day(now)).to_pylist()
    reveals = sum(1 for r in rows if r["kind"] == "reveal")
    seconds = sum(r["seconds"] or 0.0 for r in rows if r["kind"] == "session_end")
    full = sum(r["seconds"] or 0.0 for r in rows if r["kind"] == "full_colour_seconds")
    return DailyExposure(reveals=reveals, minutes=seconds / 60.0, full_colour_seconds=full)
