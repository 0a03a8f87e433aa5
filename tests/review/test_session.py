"""The session rules without any UI: what each action stores, where it leaves the reviewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.images.blur import RevealStep
from reviewer.review.queue import Queue, mix_breathers
from reviewer.review.session import POSITION_SAVE_S, ReviewSession
from reviewer.store.labels import LabelStore
from tests.tui.helpers import FakeClock, make_queue, make_session


def _current(labels: LabelStore) -> list[tuple[str, str, str]]:
    return [
        (r["sample_id"], r["category"], r["verdict"]) for r in labels.current_labels().to_pylist()
    ]


def _kinds(labels: LabelStore) -> list[str]:
    return [r["kind"] for r in labels.exposure().to_pylist()]


def test_decision_is_stored_with_time_depth_note_and_moves_on() -> None:
    session, labels, clock = make_session()
    assert session.current_id == "s0"
    clock.advance(4.5)
    assert session.reveal() is None
    session.set_note("looks like a stock photo")
    session.decide("reject")
    row = labels.current_labels().to_pylist()[0]
    assert (row["sample_id"], row["verdict"], row["category"]) == ("s0", "reject", "nsfw")
    assert row["seconds_on_item"] == 4.5
    assert row["reveal_depth"] == int(RevealStep.LIGHT)
    assert row["note"] == "looks like a stock photo"
    assert row["session_id"] == session.session_id and row["queue"] == "flagged"
    assert session.current_id == "s1"
    assert session.step == RevealStep.HEAVY and session.note is None
    assert session.done == 1 and session.total == 5


def test_every_verdict_is_stored() -> None:
    session, labels, _ = make_session(5)
    for verdict in ("confirm", "reject", "unsure", "skip", "escalate"):
        session.decide(verdict)
    assert [v for _, _, v in _current(labels)] == [
        "confirm",
        "reject",
        "unsure",
        "skip",
        "escalate",
    ]
    assert session.current_id is None and session.done == 5
    assert labels.quarantined_ids() == {"s4"}


def test_undo_removes_the_label_and_returns_to_the_item() -> None:
    session, labels, _ = make_session()
    session.decide("confirm")
    session.decide("reject")
    assert session.current_id == "s2"
    undone = session.undo()
    assert undone is not None and undone.sample_id == "s1"
    assert session.current_id == "s1"
    assert _current(labels) == [("s0", "nsfw", "confirm")]
    assert session.done == 1
    session.undo()
    assert session.current_id == "s0" and _current(labels) == []
    assert session.undo() is None


def test_escalation_vanishes_at_once_and_cannot_be_undone() -> None:
    session, labels, _ = make_session()
    session.next()
    session.decide("escalate")
    assert labels.quarantined_ids() == {"s1"}
    assert session.current_id == "s2"
    session.previous()
    assert session.current_id == "s0"  # s1 is skipped
    assert session.undo() is None
    assert labels.quarantined_ids() == {"s1"}


def test_item_escalated_by_another_reviewer_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    mine, other = LabelStore(path), LabelStore(path)
    session, _, _ = make_session(labels=mine)
    from reviewer.store.labels import Decision

    other.record(Decision("s1", "bob", "nsfw", "escalate"))
    session.next()
    assert session.current_id == "s2"


def test_reveal_steps_and_moving_on_returns_to_default_and_logs_exposure() -> None:
    session, labels, clock = make_session()
    assert session.step == RevealStep.HEAVY
    session.reveal()
    session.reveal()
    assert session.step == RevealStep.FULL
    assert session.reveal() == "already at full detail"
    clock.advance(7)
    session.next()
    assert session.step == RevealStep.HEAVY
    rows = labels.exposure().to_pylist()
    reveals = [(r["sample_id"], r["depth"]) for r in rows if r["kind"] == "reveal"]
    assert reveals == [("s0", 2), ("s0", 3)]
    revealed = [r for r in rows if r["kind"] == "revealed_seconds"]
    assert [(r["sample_id"], r["seconds"], r["depth"]) for r in revealed] == [("s0", 7.0, 3)]
    assert session.wellbeing.session.revealed_seconds == 7.0


def test_hide_returns_to_default() -> None:
    session, _, _ = make_session()
    session.reveal()
    session.hide()
    assert session.step == RevealStep.HEAVY


def test_hidden_and_text_only_modes() -> None:
    hidden = Settings.from_dict({"review": {"image_mode": "hidden"}})
    session, _, _ = make_session(settings=hidden)
    assert session.step == RevealStep.HIDDEN
    session.reveal()
    assert session.step == RevealStep.HEAVY
    text = Settings.from_dict({"review": {"image_mode": "text-only"}})
    session, labels, _ = make_session(settings=text)
    assert session.reveal() == "text-only mode: images are never shown"
    assert session.step == RevealStep.HIDDEN
    assert "reveal" not in _kinds(labels)


def test_category_and_hate_subtags_are_stored() -> None:
    session, labels, _ = make_session()
    session.set_category("hate", ("hateful", "targeted"))
    session.decide("confirm")
    session.decide("reject")  # category sticks, sub-tags belong to the item
    rows = labels.current_labels().to_pylist()
    assert [(r["category"], r["subtags"]) for r in rows] == [
        ("hate", "hateful,targeted"),
        ("hate", None),
    ]
    with pytest.raises(ReviewerError, match="unknown category"):
        session.set_category("spam")
    with pytest.raises(ReviewerError, match="do not apply"):
        session.set_category("nsfw", ("hateful",))


def test_items_only_hate_flags_raised_are_filed_under_hate_until_the_reviewer_chooses() -> None:
    session, labels, _ = make_session()
    session.suggest_category("hate")  # the screen does this on arrival at a hate-only item
    session.decide("confirm")
    session.suggest_category(None)  # next item: raised by other flags
    session.decide("reject")
    session.set_category("privacy")  # an explicit choice sticks over any suggestion
    session.suggest_category("hate")
    session.decide("unsure")
    rows = labels.current_labels().to_pylist()
    assert [(r["category"], r["verdict"]) for r in rows] == [
        ("hate", "confirm"),
        ("nsfw", "reject"),
        ("privacy", "unsure"),
    ]


def test_resume_at_the_saved_position(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    session, labels, _ = make_session(6, labels=LabelStore(path))
    session.decide("confirm")  # s0, moves on to s1
    session.next()  # s1 passed over without a decision
    assert session.current_id == "s2"
    session.end()
    labels.close()
    # The next session's queue leaves out what is labelled: s1..s5 remain.
    queue = make_queue(6)
    queue = Queue("flagged", queue.ids[1:], queue.ranks[1:], already_done=1)
    again, _, _ = make_session(labels=LabelStore(path), queue=queue)
    assert again.current_id == "s2"
    again.previous()
    assert again.current_id == "s1"
    assert again.done == 1 and again.total == 6


def test_breathers_are_mixed_in_stored_apart_and_not_counted() -> None:
    queue = mix_breathers(make_queue(4), ["b0", "b1", "b2"], every=2)
    assert queue.ids == ["s0", "s1", "b0", "s2", "s3", "b1"]
    assert queue.size == 4
    session, labels, _ = make_session(queue=queue)
    session.decide("confirm")
    session.decide("confirm")
    assert session.is_breather
    session.decide("reject")
    rows = labels.current_labels().to_pylist()
    assert [(r["sample_id"], r["queue"]) for r in rows][-1] == ("b0", "breather")
    assert session.done == 2 and session.total == 4
    assert session.wellbeing.session.confirmed == 2


def test_confirmations_count_as_exposure_and_trigger_a_break() -> None:
    settings = Settings.from_dict({"wellbeing": {"break_after_confirmed": 2}})
    session, labels, _ = make_session(settings=settings)
    session.decide("confirm")
    assert session.break_due() is None
    session.decide("confirm")
    assert session.break_due() is not None
    session.snooze()
    session.start_break()
    session.end_break()
    assert session.break_due() is None
    kinds = _kinds(labels)
    assert kinds.count("confirmed_harmful") == 2
    assert "break_snoozed" in kinds and "break_taken" in kinds


def test_an_undone_confirmation_is_not_counted_as_exposure() -> None:
    settings = Settings.from_dict({"wellbeing": {"break_after_confirmed": 2}})
    session, _, _ = make_session(settings=settings)
    session.decide("confirm")
    assert session.undo() is not None  # a slip of the key, taken back
    session.decide("reject")
    session.decide("confirm")
    assert session.break_due() is None  # one standing confirmation, not two
    summary = session.summary()
    assert summary.exposure.confirmed == 1
    assert "1 confirmed harmful" in summary.lines()[2]


def test_daily_reveal_cap_refuses_reveals_and_summary_reports_it() -> None:
    settings = Settings.from_dict({"wellbeing": {"daily_reveal_cap": 2}})
    session, labels, clock = make_session(settings=settings)
    session.reveal()
    session.next()
    session.reveal()
    assert session.cap_reached() is not None
    message = session.reveal()
    assert message is not None and "daily limit" in message
    clock.advance(30)
    summary = session.end()
    assert summary.exposure.reveals == 2
    assert any("2 reveals" in line for line in summary.lines())
    assert _kinds(labels)[-1] == "session_end"


def test_navigation_bounds_and_empty_queue() -> None:
    session, _, _ = make_session(2)
    assert not session.previous()
    assert session.next() and session.next()
    assert session.current_id is None
    assert not session.next()
    assert session.previous() and session.current_id == "s1"
    empty, _, _ = make_session(queue=Queue("flagged", [], []))
    assert empty.current_id is None and empty.total == 0
    with pytest.raises(ReviewerError, match="no item"):
        empty.decide("confirm")
    assert empty.end().remaining == 0


def test_empty_reviewer_name_is_refused() -> None:
    with pytest.raises(ReviewerError, match="empty"):
        ReviewSession(LabelStore(None), " ", make_queue(1), Settings(), clock=FakeClock())


def test_position_is_saved_at_most_every_few_seconds_and_at_the_end() -> None:
    session, labels, clock = make_session(6)
    session.next()
    assert labels.position("ana", "flagged") == 0  # not yet: moves are cheap
    clock.advance(POSITION_SAVE_S)
    session.next()
    assert labels.position("ana", "flagged") == 30
    session.next()
    assert labels.position("ana", "flagged") == 30
    session.end()
    assert labels.position("ana", "flagged") == 40


def test_item_on_screen_escalated_elsewhere_is_taken_away(tmp_path: Path) -> None:
    from reviewer.store.labels import Decision

    path = tmp_path / "labels.sqlite"
    session, _, _ = make_session(labels=LabelStore(path))
    assert session.leave_if_quarantined() is None
    LabelStore(path).record(Decision("s0", "bob", "nsfw", "escalate"))
    assert session.leave_if_quarantined() == "s0"
    assert session.current_id == "s1"
    session.previous()
    assert session.current_id == "s1"


def test_items_quarantined_during_the_session_are_not_left_to_do(tmp_path: Path) -> None:
    """Quarantined items are never judged: the progress line and the summary stop counting
    them as waiting, as for items quarantined before the queue was loaded, while the
    reviewer's own escalation stays a decision."""
    from reviewer.store.labels import Decision

    path = tmp_path / "labels.sqlite"
    session, _, _ = make_session(labels=LabelStore(path))
    total = session.total
    other = LabelStore(path)
    other.record(Decision("s2", "bob", "nsfw", "escalate"))  # elsewhere, ahead of ana
    other.record(Decision("s0", "bob", "nsfw", "escalate"))  # the item on screen
    assert session.leave_if_quarantined() == "s0"
    assert (session.done, session.total) == (0, total - 2)
    session.decide("escalate")  # ana's own escalation of s1: done, not withdrawn
    assert (session.done, session.total) == (1, total - 2)
    assert session.current_id == "s3"
    assert session.summary().remaining == total - 3
