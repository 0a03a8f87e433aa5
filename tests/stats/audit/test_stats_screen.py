"""The TUI statistics screen computes in a worker, shows the panels, and closes on escape."""

from __future__ import annotations

from textual.app import App

from reviewer.audit import Audit
from reviewer.tui.screens.stats_screen import StatsScreen, whisker_line


class Host(App[None]):
    """A bare app to push the screen on."""


async def test_screen_shows_why_without_labels(audit: Audit) -> None:
    app = Host()
    async with app.run_test(size=(120, 50)) as pilot:
        await app.push_screen(StatsScreen(audit))
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert screen.error is not None and "no labels yet" in screen.error
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)


async def test_screen_shows_precision_heat_map_and_agreement(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(30))
    set_flags([(f"s{i:05d}", "keyword") for i in range(10)])
    items = [(f"s{i:05d}", "confirm" if i % 2 else "reject") for i in range(10)]
    label(audit, items, reviewer="ana")
    label(audit, items, reviewer="ben")
    app = Host()
    async with app.run_test(size=(120, 60)) as pilot:
        await app.push_screen(StatsScreen(audit))
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert screen.stats is not None and screen.error is None
        assert screen.stats.precision[0]["flag"] == "keyword"
        assert screen.stats.agreement["n_items"] == 10


def test_whisker_line_places_the_interval() -> None:
    line = whisker_line(0.5, 0.25, 0.75, width=9).plain
    assert line == "  ├─●─┤  "
    assert whisker_line(None, None, None, width=4).plain == "····"
