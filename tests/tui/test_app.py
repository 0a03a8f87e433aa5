"""Pilot tests of every key of the review screen, asserting what was STORED."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.images.blur import RevealStep
from reviewer.review.session import POSITION_SAVE_S
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.break_screen import BreakScreen
from reviewer.tui.screens.help_screen import HelpScreen
from reviewer.tui.screens.summary_screen import SummaryScreen
from reviewer.tui.widgets.caption_view import CaptionView
from reviewer.tui.widgets.image_panel import RENDER_LOG, ImagePanel
from tests.conftest import Cli
from tests.tui.app_fixtures import (
    CORRUPT,
    SIZE,
    build_app,
    build_audit,
    current_labels,
    exposure_kinds,
    press,
    until,
)
from tests.tui.helpers import FakeClock, screen_text


def _item_shown(app: ReviewerApp) -> bool:
    screen = app.review_screen
    sid = app.session.current_id
    return sid is not None and screen.rows.get(sid) is not None


def _image_ready(app: ReviewerApp) -> bool:
    panel = app.review_screen.query_one(ImagePanel)
    return panel.sample_id == app.session.current_id and (
        panel.rendered_image is not None or "unavailable" in panel.message
    )


async def _ready(pilot: Pilot[object], app: ReviewerApp) -> None:
    await until(pilot, lambda: _item_shown(app) and _image_ready(app))


async def test_decision_keys_store_the_verdict(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        shown = []
        for key, verdict in [("y", "confirm"), ("n", "reject"), ("u", "unsure"), ("s", "skip")]:
            shown.append(app.session.current_id)
            await press(pilot, app, key)
            assert f"saved: {verdict}" in screen_text(app)
        stored = current_labels(small_audit)
        assert [(r["sample_id"], r["verdict"], r["category"]) for r in stored] == [
            (shown[0], "confirm", "nsfw"),
            (shown[1], "reject", "nsfw"),
            (shown[2], "unsure", "nsfw"),
            (shown[3], "skip", "nsfw"),
        ]
        assert {(r["reviewer"], r["queue"]) for r in stored} == {("ana", "flagged")}
        assert app.session.current_id not in shown
        assert "4 / 8 done" in screen_text(app)


async def test_escalate_takes_two_presses_and_quarantines(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        first = app.session.current_id
        await press(pilot, app, "e")
        assert current_labels(small_audit) == []
        assert "again to escalate" in screen_text(app)
        await press(pilot, app, "e")
        assert [(r["sample_id"], r["verdict"]) for r in current_labels(small_audit)] == [
            (first, "escalate")
        ]
        assert small_audit.labels.quarantined_ids() == {first}
        assert app.previews is not None and app.previews.get(str(first), RevealStep.HEAVY) is None
        await press(pilot, app, "left")
        assert app.session.current_id != first  # it vanished from the queue


async def test_another_key_cancels_an_armed_escalation(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "e", "r", "e")
        assert current_labels(small_audit) == []
        assert small_audit.labels.quarantined_ids() == set()


async def test_reveal_steps_hide_and_moving_on_return_to_default(small_audit: Audit) -> None:
    RENDER_LOG.clear()
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        first = app.session.current_id
        # Before any reveal, only the heavy step was handed to the renderer.
        assert {r.step for r in RENDER_LOG} == {RevealStep.HEAVY}
        await press(pilot, app, "r")
        await until(pilot, lambda: any(r.step == RevealStep.LIGHT for r in RENDER_LOG))
        assert app.session.step == RevealStep.LIGHT
        await press(pilot, app, "h")
        assert app.session.step == RevealStep.HEAVY
        await press(pilot, app, "r", "r")
        assert app.session.step == RevealStep.FULL
        await press(pilot, app, "right")
        assert app.session.step == RevealStep.HEAVY
        rows = small_audit.labels.exposure().to_pylist()
        reveals = [(r["sample_id"], r["depth"]) for r in rows if r["kind"] == "reveal"]
        assert reveals == [(first, 2), (first, 2), (first, 3)]
        assert [r["sample_id"] for r in rows if r["kind"] == "revealed_seconds"] == [first, first]
        assert current_labels(small_audit) == []  # moving is not a decision


async def test_undo_restores_the_stored_state_and_goes_back(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        first = app.session.current_id
        await press(pilot, app, "y")
        await press(pilot, app, "z")
        assert current_labels(small_audit) == []
        verdicts = [r["verdict"] for r in small_audit.labels.events().to_pylist()]
        assert verdicts == ["confirm", "undo"]
        assert app.session.current_id == first
        await press(pilot, app, "z")
        assert "nothing to undo" in screen_text(app)


async def test_arrows_move_without_storing_and_remember_the_position(small_audit: Audit) -> None:
    clock = FakeClock()
    app = build_app(small_audit, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        ids = app.session.queue.ids
        await press(pilot, app, "right", "right")
        assert app.session.current_id == ids[2]
        clock.advance(POSITION_SAVE_S)
        await press(pilot, app, "left")
        assert app.session.current_id == ids[1]
        assert small_audit.labels.events().num_rows == 0
        assert small_audit.labels.position("ana", "flagged") == app.session.queue.ranks[1]


async def test_category_with_hate_subtags_is_stored(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "c", "2", "h", "a", "enter")
        assert "category hate (hateful, aggressive)" in screen_text(app)
        await press(pilot, app, "y")
        row = current_labels(small_audit)[0]
        assert (row["category"], row["subtags"], row["verdict"]) == (
            "hate",
            "hateful,aggressive",
            "confirm",
        )


async def test_note_is_stored_with_the_decision(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "m")
        await press(pilot, app, *"stock photo")
        await press(pilot, app, "enter")
        await press(pilot, app, "n")
        assert current_labels(small_audit)[0]["note"] == "stock photo"


async def test_quit_shows_the_summary_and_logs_the_session_end(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "y", "r", "q")
        assert isinstance(app.screen, SummaryScreen)
        await until(pilot, lambda: "1 decision (confirm 1)" in screen_text(app))
        assert "1 reveal " in screen_text(app)
        await press(pilot, app, "enter")
    assert app.return_value is not None and app.return_value.decisions == 1
    assert exposure_kinds(small_audit)[-1] == "session_end"


async def test_help_lists_remapped_keys_and_remapped_keys_work(small_audit: Audit) -> None:
    settings = Settings.from_dict({"keys": {"confirm": "j", "reject": "k"}})
    app = build_app(small_audit, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"j\s+Confirm\s+harmful", text) and re.search(r"k\s+Reject", text)
        await press(pilot, app, "escape")
        await press(pilot, app, "y")
        assert current_labels(small_audit) == []
        await press(pilot, app, "j", "k")
        assert [r["verdict"] for r in current_labels(small_audit)] == ["confirm", "reject"]


async def test_break_after_confirmations_snooze_then_timed_pause(small_audit: Audit) -> None:
    settings = Settings.from_dict({"wellbeing": {"break_after_confirmed": 2, "break_minutes": 1}})
    clock = FakeClock()
    app = build_app(small_audit, settings=settings, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "y", "y")
        assert isinstance(app.screen, BreakScreen)
        await press(pilot, app, "s")
        assert not isinstance(app.screen, BreakScreen)
        assert "break_snoozed" in exposure_kinds(small_audit)
        await press(pilot, app, *"yyyyy")
        assert isinstance(app.screen, BreakScreen)
        screen = app.screen
        await press(pilot, app, "y")  # no decisions while the break screen is up
        assert len(current_labels(small_audit)) == 7
        await press(pilot, app, "b")
        assert "break_taken" in exposure_kinds(small_audit)
        assert "left" in screen_text(app)
        await press(pilot, app, "enter")  # too early
        assert app.screen is screen
        clock.advance(61)
        screen.tick()
        await press(pilot, app, "enter")
        assert not isinstance(app.screen, BreakScreen)
        assert app.session.break_due() is None


async def test_daily_cap_ends_the_session_politely(small_audit: Audit) -> None:
    settings = Settings.from_dict({"wellbeing": {"daily_reveal_cap": 1}})
    app = build_app(small_audit, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "r", "n")
        assert isinstance(app.screen, SummaryScreen)
        await until(pilot, lambda: "daily limit of this audit" in screen_text(app))
        await press(pilot, app, "enter")
    assert "cap_reached" in exposure_kinds(small_audit)
    assert [r["verdict"] for r in current_labels(small_audit)] == ["reject"]


async def test_reveal_timeout_returns_to_default(small_audit: Audit) -> None:
    settings = Settings.from_dict({"review": {"reveal_timeout_s": 0.2}})
    app = build_app(small_audit, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "r")
        assert "reveal" in exposure_kinds(small_audit)
        await until(pilot, lambda: "reveal timeout" in screen_text(app))
        assert app.session.step == RevealStep.HEAVY


async def test_stats_key_opens_the_statistics_screen(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "t")
        assert type(app.screen).__name__ == "StatsScreen"


async def test_empty_queue_is_a_friendly_screen(tmp_path: Path) -> None:
    from tests.conftest import sample_rows

    small_audit = build_audit(tmp_path / "a", rows=sample_rows(3, nsfw="UNLIKELY"))
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Nothing to review for ana" in screen_text(app)
        await press(pilot, app, "y", "r", "e", "e", "z")
        assert small_audit.labels.events().num_rows == 0
    small_audit.close()


async def test_queue_end_says_finished(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        for _ in range(app.session.total):
            await press(pilot, app, "n")
        assert "Queue finished: 8 of 8" in screen_text(app)


async def test_corrupt_image_says_so_and_the_app_stays_up(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        while app.session.current_id != CORRUPT:
            await press(pilot, app, "right")
        await until(pilot, lambda: _image_ready(app))
        assert "image unavailable (corrupt)" in screen_text(app)
        await press(pilot, app, "y")
        assert current_labels(small_audit)[0]["sample_id"] == CORRUPT


async def test_hostile_and_huge_captions_show_as_inert_text(tmp_path: Path) -> None:
    from tests.conftest import sample_rows

    rows = sample_rows(3, nsfw="NSFW")
    rows[0]["text"] = "[bold red]shout[/] \x1b[2J\x07 [link=http://x]y[/link]"
    rows[1]["text"] = "word " * 200_000  # 1 MB
    small_audit = build_audit(tmp_path / "a", rows=rows)
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        while app.session.current_id != "s00000":
            await press(pilot, app, "right")
        await until(pilot, lambda: _item_shown(app))
        text = screen_text(app)
        assert "[bold red]shout[/]" in text and "␛[2J" in text and "[link=http://x]" in text
        while app.session.current_id != "s00001":
            await press(pilot, app, "right")
        await until(pilot, lambda: _item_shown(app))
        shown = app.review_screen.query_one("#caption-text", Static).content
        assert "more characters" in str(shown) and len(str(shown)) < 30_000
        await press(pilot, app, "n")
        assert current_labels(small_audit)[0]["sample_id"] == "s00001"
    small_audit.close()


async def test_too_small_terminal_says_so_and_stays_up(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=(40, 10)) as pilot:
        await until(pilot, lambda: "too small" in screen_text(app))
        await press(pilot, app, "n", "r", "e", "e")
        assert current_labels(small_audit) == []  # nothing is decided or revealed unseen
        assert "reveal" not in exposure_kinds(small_audit)
        await pilot.resize_terminal(*SIZE)
        await _ready(pilot, app)
        await until(pilot, lambda: "too small" not in screen_text(app))
        assert app.review_screen.query_one(CaptionView).display


async def test_no_colour_terminal_is_told(
    small_audit: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        assert "No colour in this terminal" in screen_text(app)


async def test_text_only_mode_never_renders_pixels(small_audit: Audit) -> None:
    RENDER_LOG.clear()
    settings = Settings.from_dict({"review": {"image_mode": "text-only"}})
    app = build_app(small_audit, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _item_shown(app))
        await press(pilot, app, "r", "r", "right")
        assert "text-only mode" in screen_text(app)
        assert list(RENDER_LOG) == []
        assert "reveal" not in exposure_kinds(small_audit)
        screen = app.screen
        # The caption gets the width, and the footer does not offer Reveal / Hide.
        assert screen.query_one("#caption").size.width > 3 * screen.query_one("#image").size.width
        assert "Reveal" not in screen_text(app) and "Hide" not in screen_text(app)


async def test_plan_queue_decisions_are_stored_under_the_plan(small_audit: Audit, cli: Cli) -> None:
    drawn = cli(
        "sample", small_audit.root, "--name", "p1", "--strata", "nsfw", "--per-stratum", "2"
    )
    assert drawn.code == 0, drawn
    app = build_app(small_audit, queue="p1")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        first = app.session.current_id
        await press(pilot, app, "u")
        stored = current_labels(small_audit)
        assert [(r["sample_id"], r["queue"]) for r in stored] == [(first, "p1")]
        assert "queue p1" in screen_text(app)


async def test_fixed_size_layout(small_audit: Audit) -> None:
    """A snapshot in words at 120x40: progress on top, caption left, image right, keys below."""
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await until(pilot, lambda: "y Confirm" in screen_text(app))
        lines = screen_text(app).splitlines()
        assert lines[0].startswith(" 0 / 8 done · – items/h · category nsfw · reviewer ana")
        footer = next(line for line in reversed(lines) if line.strip())
        assert footer.startswith("y Confirm n Reject u Unsure s Skip e Escalate r Reveal")
        caption_row = next(i for i, line in enumerate(lines) if "caption number" in line)
        assert lines[caption_row].index("caption number") < 60
        reasons_row = next(i for i, line in enumerate(lines) if "flagged because:" in line[:60])
        assert reasons_row > caption_row
        label_row = next(i for i, line in enumerate(lines) if "heavily blurred" in line)
        assert lines[label_row].index("heavily blurred") >= 60


async def test_item_escalated_by_another_reviewer_leaves_the_screen(small_audit: Audit) -> None:
    from reviewer.store.labels import Decision, LabelStore

    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        first = str(app.session.current_id)
        other = LabelStore(small_audit.paths.labels)
        other.record(Decision(first, "bob", "nsfw", "escalate"))
        other.close()
        await until(pilot, lambda: app.session.current_id != first)  # polled every 2 s
        assert "escalated by another reviewer" in screen_text(app)
        assert app.previews is not None and app.previews.get(first, RevealStep.HEAVY) is None


async def test_names_and_notes_are_shown_as_data_not_markup(small_audit: Audit) -> None:
    app = build_app(small_audit, reviewer="[bold red]ana[/]")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        await press(pilot, app, "m")
        await press(pilot, app, *"[link=http://x]y")
        await press(pilot, app, "enter")
        text = screen_text(app)
        assert "reviewer [bold red]ana[/]" in text
        assert "note: [link=http://x]y" in text
        await press(pilot, app, "y")
        assert current_labels(small_audit)[0]["reviewer"] == "[bold red]ana[/]"
