"""Defects found by using the review app as an auditor would (in tmux), each pinned by a test."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.store.labels import LabelStore
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.break_screen import BreakScreen
from reviewer.tui.screens.summary_screen import SummaryScreen
from tests.tui.app_fixtures import (
    SIZE,
    build_app,
    current_labels,
    exposure_kinds,
    press,
    until,
)
from tests.tui.helpers import make_queue, make_session, screen_text


async def _ready(pilot: Pilot[object], app: ReviewerApp) -> None:
    screen = app.review_screen
    await until(
        pilot,
        lambda: (
            app.session.current_id is not None
            and screen.rows.get(app.session.current_id) is not None
        ),
    )


def _message(app: ReviewerApp) -> str:
    return str(app.review_screen.query_one("#message", Static).render())


def test_a_session_that_ended_past_the_end_resumes_at_the_first_waiting_item(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.sqlite"
    session, labels, _ = make_session(3, labels=LabelStore(path))
    for _ in range(3):
        session.next()  # passed over everything: the saved position is past the end
    assert session.current_id is None
    session.end()
    labels.close()
    again, _, _ = make_session(labels=LabelStore(path), queue=make_queue(3))
    assert again.current_id == "s0"  # not "queue finished" with three items waiting


def test_summary_names_the_deepest_step_in_words() -> None:
    session, _, _ = make_session()
    assert not any("deepest" in line for line in session.summary().lines())
    session.reveal()
    session.reveal()
    lines = session.summary().lines()
    assert any("deepest: full colour and detail" in line for line in lines)


async def test_undo_right_after_an_escalation_asks_before_undoing_the_decision_before_it(
    small_audit: Audit,
) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "z")
        assert "nothing to undo in this session" in _message(app)
        assert "escalation" not in _message(app)  # none was made
        first = app.session.current_id
        await press(pilot, app, "y")
        escalated = app.session.current_id
        await press(pilot, app, "e", "e")
        assert small_audit.labels.quarantined_ids() == {escalated}
        await press(pilot, app, "z")
        assert f"{escalated} stays escalated" in _message(app)
        assert [r["verdict"] for r in current_labels(small_audit)] == ["confirm", "escalate"]
        await press(pilot, app, "z")
        assert f"undone: confirm on {first}" in _message(app)
        assert app.session.current_id == first
        assert [r["verdict"] for r in current_labels(small_audit)] == ["escalate"]
        await press(pilot, app, "z")
        assert "nothing to undo in this session (escalations are final)" in _message(app)


async def test_another_key_cancels_the_undo_past_an_escalation(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "y", "e", "e", "z", "right", "z")
        assert "stays escalated" in _message(app)
        assert [r["verdict"] for r in current_labels(small_audit)] == ["confirm", "escalate"]


async def test_end_of_queue_after_passing_items_over_points_back_to_them(
    small_audit: Audit
) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "n")
        for _ in range(len(app.session.queue.ids)):
            await press(pilot, app, "right")
        assert app.session.current_id is None
        text = screen_text(app)
        assert "Queue finished" not in text
        assert "End of the queue: 1 of 8" in text and "7 you passed over still wait" in text
        await press(pilot, app, "m")
        assert "nothing to attach a note to" in _message(app)
        await press(pilot, app, "e")
        assert "nothing to escalate" in _message(app)
        await press(pilot, app, "r")
        assert "nothing to reveal" in _message(app)
        await press(pilot, app, "left")  # back on an item: the end-of-queue message goes
        await _ready(pilot, app)
        assert _message(app) == ""


async def test_q_on_the_break_screen_ends_the_session(small_audit: Audit) -> None:
    settings = Settings.from_dict({"wellbeing": {"break_after_confirmed": 2}})
    app = build_app(small_audit, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "y", "y")
        assert isinstance(app.screen, BreakScreen)
        status = app.screen.query_one("#break-status", Static)
        await until(pilot, lambda: "q: end the session" in str(status.render()))
        await press(pilot, app, "b", "q")
        assert isinstance(app.screen, SummaryScreen)
        await press(pilot, app, "enter")
    assert app.return_value is not None and app.return_value.decisions == 2
    kinds = exposure_kinds(small_audit)
    assert "break_taken" in kinds and kinds[-1] == "session_end"


async def test_undo_asks_once_per_escalation_it_would_pass_over(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "y", "y", "e", "e", "n")
        await press(pilot, app, "z")  # the reject goes: the escalation is the latest again
        assert "undone: reject" in _message(app)
        await press(pilot, app, "z")
        assert "stays escalated" in _message(app)
        await press(pilot, app, "z", "z")  # asked once: both confirmations go
        assert [r["verdict"] for r in current_labels(small_audit)] == ["escalate"]
        assert "undone: confirm" in _message(app)
