"""The TUI statistics screen computes in a worker, shows the panels, and closes on escape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App
from textual.pilot import Pilot

from reviewer.audit import Audit
from reviewer.tui.screens.stats_screen import StatsScreen, whisker_line


class Host(App[None]):
    """A bare app to push the screen on."""


@asynccontextmanager
async def stats_screen(
    audit: Audit, size: tuple[int, int]
) -> AsyncIterator[tuple[Pilot[None], StatsScreen]]:
    """The statistics screen of ``audit`` on a bare app, once its worker has finished."""
    app = Host()
    async with app.run_test(size=size) as pilot:
        await app.push_screen(StatsScreen(audit))
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        yield pilot, screen


async def test_screen_shows_why_without_labels(audit: Audit) -> None:
    async with stats_screen(audit, (120, 50)) as (pilot, screen):
        assert screen.error is not None and "no labels yet" in screen.error
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, StatsScreen)


async def test_screen_shows_precision_heat_map_and_agreement(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(30))
    set_flags([(f"s{i:05d}", "keyword") for i in range(10)])
    items = [(f"s{i:05d}", "confirm" if i % 2 else "reject") for i in range(10)]
    label(audit, items, reviewer="ana")
    label(audit, items, reviewer="ben")
    async with stats_screen(audit, (120, 60)) as (_, screen):
        assert screen.stats is not None and screen.error is None
        assert screen.stats.precision[0]["flag"] == "keyword"
        assert screen.stats.agreement["n_items"] == 10


def test_whisker_line_places_the_interval() -> None:
    line = whisker_line(0.5, 0.25, 0.75, width=9).plain
    assert line == "  ├─●─┤  "
    assert whisker_line(None, None, None, width=4).plain == "····"


async def test_screen_shows_the_targets_of_a_plan(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    from rich.console import Console
    from textual.widgets import Static

    from reviewer.sampling import SampleSpec, draw_plan

    add_samples(make_rows(40))
    set_flags([(f"s{i:05d}", "keyword") for i in range(20)])
    draw_plan(audit, SampleSpec("p", strata=("flag",), per_stratum=10, control=10, seed=1))
    queue = audit.store.plans.queue_sample_ids("p")
    label(audit, [(s, "confirm" if i % 3 == 0 else "reject") for i, s in enumerate(queue)])
    async with stats_screen(audit, (140, 80)) as (_, screen):
        assert screen.stats is not None
        console = Console(width=140, record=True)
        console.print(screen.query_one("#stats-content", Static).content)
        shown = console.export_text()
    targets = {t["target"]: t for t in screen.stats.targets}
    assert {"prevalence", "precision:keyword"} <= set(targets)
    assert "Targets (design-based" in shown
    row = next(line for line in shown.splitlines() if line.strip().startswith("precision:keyword"))
    assert f"{targets['precision:keyword']['labels']:,}" in row
