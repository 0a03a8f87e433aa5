"""Break reminders, snoozes and the daily cap, driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

from reviewer.config import WellbeingSection
from reviewer.review.wellbeing import (
    IDLE_GAP_S,
    SNOOZE_COUNT,
    DailyExposure,
    Wellbeing,
    load_today,
    start_of_local_day,
)
from reviewer.store.labels import LabelStore
from tests.tui.helpers import FakeClock


def _work(w: Wellbeing, clock: FakeClock, minutes: float, step_s: float = 30.0) -> None:
    """Press a key every ``step_s`` seconds for ``minutes``."""
    for _ in range(int(minutes * 60 / step_s)):
        clock.advance(step_s)
        w.activity()


def test_time_break_after_25_active_minutes_ignoring_idle_gaps() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(), clock)
    _work(w, clock, 20)
    clock.advance(IDLE_GAP_S + 600)  # lunch: not active time
    w.activity()
    assert w.break_due() is None
    assert abs(w.session.active_seconds - 20 * 60) < 1e-9
    _work(w, clock, 5)
    due = w.break_due()
    assert due is not None and due.reason == "time"


def test_exposure_break_whichever_first() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(break_after_reveals=20, break_after_confirmed=15), clock)
    for _ in range(14):
        w.confirmed_harmful()
    for _ in range(19):
        w.revealed(1)
    assert w.break_due() is None
    w.confirmed_harmful()
    due = w.break_due()
    assert due is not None and due.reason == "confirmed"
    w.start_break()
    w.end_break()
    assert w.break_due() is None
    for _ in range(20):
        w.revealed(2)
    due = w.break_due()
    assert due is not None and due.reason == "reveals"
    assert w.session.reveals == 39 and w.session.max_depth == 2
    assert w.session.breaks_taken == 1


def test_snooze_postpones_and_is_counted() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(break_after_reveals=3), clock)
    for _ in range(3):
        w.revealed(1)
    assert w.break_due() is not None
    w.snooze()
    assert w.session.breaks_snoozed == 1
    for _ in range(SNOOZE_COUNT - 1):
        w.revealed(1)
    assert w.break_due() is None
    w.revealed(1)
    assert w.break_due() is not None


def test_time_is_not_active_during_a_break() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(break_every_minutes=1), clock)
    _work(w, clock, 1)
    assert w.break_due() is not None
    w.start_break()
    clock.advance(60)
    w.activity()
    assert abs(w.session.active_seconds - 60) < 1e-9
    w.end_break()
    assert w.break_due() is None


def test_zero_turns_a_rule_off() -> None:
    clock = FakeClock()
    w = Wellbeing(
        WellbeingSection(
            break_every_minutes=0,
            break_after_reveals=0,
            break_after_confirmed=0,
            daily_reveal_cap=0,
            daily_minutes_cap=0,
        ),
        clock,
    )
    _work(w, clock, 600)
    for _ in range(1000):
        w.revealed(3)
        w.confirmed_harmful()
    assert w.break_due() is None
    assert w.cap_reached() is None


def test_daily_caps_count_earlier_sessions() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(daily_reveal_cap=10), clock, DailyExposure(reveals=8))
    w.revealed(1)
    assert w.cap_reached() is None
    w.revealed(1)
    message = w.cap_reached()
    assert message is not None and "10" in message
    w2 = Wellbeing(WellbeingSection(daily_minutes_cap=30), clock, DailyExposure(minutes=29))
    assert w2.cap_reached() is None
    _work(w2, clock, 1)
    assert w2.cap_reached() is not None


def test_load_today_reads_reveals_and_session_minutes_since_midnight() -> None:
    times = iter(
        [
            datetime(2026, 3, 1, 10, 0, tzinfo=UTC),  # yesterday's reveal
            datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            datetime(2026, 3, 2, 9, 1, tzinfo=UTC),
            datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
            datetime(2026, 3, 2, 9, 31, tzinfo=UTC),  # another reviewer
        ]
    )
    labels = LabelStore(None, clock=lambda: next(times))
    labels.log_exposure("ana", "reveal", depth=1)
    labels.log_exposure("ana", "reveal", depth=1)
    labels.log_exposure("ana", "reveal", depth=2)
    labels.log_exposure("ana", "session_end", seconds=1800.0)
    labels.log_exposure("bob", "reveal", depth=1)
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    since = start_of_local_day(now)
    today = load_today(labels, "ana", now)
    if since <= "2026-03-01T10:00:00.000000+00:00":
        # A far-west local time zone puts yesterday's 10:00 UTC into "today".
        assert today.reveals == 3
    else:
        assert today.reveals == 2
    assert today.minutes == 30.0
