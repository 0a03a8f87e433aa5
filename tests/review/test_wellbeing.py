"""Break reminders, snoozes and the daily cap, driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

from reviewer.config import Settings, WellbeingSection
from reviewer.review.session import ReviewSession
from reviewer.review.wellbeing import (
    IDLE_GAP_S,
    SNOOZE_COUNT,
    SNOOZE_FULL_COLOUR_S,
    DailyExposure,
    Wellbeing,
    load_today,
    start_of_local_day,
)
from reviewer.store.labels import LabelStore
from tests.tui.helpers import FakeClock, make_queue, make_session


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
            break_after_full_colour_seconds=0,
            daily_full_colour_seconds_cap=0,
        ),
        clock,
    )
    _work(w, clock, 600)
    for _ in range(1000):
        w.revealed(3)
        w.full_colour_for(60.0)
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


def test_full_colour_seconds_since_the_last_break_ask_for_one() -> None:
    clock = FakeClock()
    w = Wellbeing(WellbeingSection(break_after_full_colour_seconds=60, break_after_reveals=0),
                  clock)
    w.full_colour_for(40.0)
    assert w.break_due() is None
    w.full_colour_for(25.0)
    due = w.break_due()
    assert due is not None and due.reason == "full_colour" and "65 seconds" in due.message
    w.snooze()  # postponed by SNOOZE_FULL_COLOUR_S more seconds in full colour
    w.full_colour_for(SNOOZE_FULL_COLOUR_S - 1)
    assert w.break_due() is None
    w.full_colour_for(1.0)
    assert w.break_due() is not None
    w.start_break()
    w.end_break()
    assert w.break_due() is None
    assert w.session.full_colour_seconds == 65.0 + SNOOZE_FULL_COLOUR_S


def test_daily_full_colour_cap_counts_earlier_sessions_from_the_log() -> None:
    """Seconds come from the exposure log (``full_colour_seconds``) and this session."""
    times = iter([datetime(2026, 3, 2, 9, 0, tzinfo=UTC)] * 10)
    labels = LabelStore(None, clock=lambda: next(times))
    labels.log_exposure("ana", "full_colour_seconds", sample_id="x", depth=3, seconds=580.0)
    labels.log_exposure("ana", "revealed_seconds", sample_id="x", depth=3, seconds=900.0)
    labels.log_exposure("bob", "full_colour_seconds", sample_id="x", depth=3, seconds=999.0)
    today = load_today(labels, "ana", datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    assert today.full_colour_seconds == 580.0

    settings = Settings.from_dict({"wellbeing": {"daily_full_colour_seconds_cap": 600,
                                                 "break_after_full_colour_seconds": 0}})
    clock = FakeClock()
    live = LabelStore(None)
    session = ReviewSession(live, "ana", make_queue(3), settings, clock=clock, today=today)
    session.start()
    while session.reveal() is None:  # step by step to full colour
        pass
    clock.advance(15)
    session.decide("reject")  # 595 s today: not yet
    assert session.cap_reached() is None
    while session.reveal() is None:
        pass
    clock.advance(5)
    session.decide("reject")  # 600 s: the day is over, and further reveals are refused
    message = session.cap_reached()
    assert message is not None and "full colour for 600 seconds today" in message
    assert session.reveal() == message
    logged = [r["seconds"] for r in live.exposure().to_pylist()
              if r["kind"] == "full_colour_seconds"]
    assert logged == [15.0, 5.0]


def test_a_session_asks_for_a_break_after_full_colour_time() -> None:
    settings = Settings.from_dict({"wellbeing": {"break_after_full_colour_seconds": 30,
                                                 "break_after_reveals": 0}})
    session, _, clock = make_session(4, settings=settings)
    while session.reveal() is None:
        pass
    clock.advance(20)
    session.hide()  # hidden after 20 s in full colour: counted
    clock.advance(100)  # blurred time does not count
    session.decide("reject")
    assert session.break_due() is None
    while session.reveal() is None:
        pass
    clock.advance(10)
    session.next()  # leaving the item ends its full-colour time
    due = session.break_due()
    assert due is not None and due.reason == "full_colour"
