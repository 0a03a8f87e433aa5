"""CaptionView: hostile captions, reasons and metadata reach the screen as inert text."""

from __future__ import annotations

import random

from hypothesis import given, settings
from textual.app import App, ComposeResult
from textual.widgets import Static

from reviewer.tui.widgets.caption_view import CaptionView
from tests.test_text_safety import HOSTILE_PIECES, forbidden, hostile
from tests.tui.helpers import screen_lines


class CaptionApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CaptionView()


@settings(max_examples=100, deadline=None)
@given(text=hostile, reason=hostile, value=hostile)
def test_renderables_never_carry_controls_or_markup(text, reason, value):
    view = CaptionView()
    parts = [
        view.caption_renderable(text),
        view.reasons_renderable([reason, 'keyword: "porn" in URL']),
        view.meta_renderable({"url": value, value: "x"}),
    ]
    for part in parts:
        assert not [c for c in part.plain if forbidden(c)]


async def test_hostile_strings_show_literally_on_screen():
    rng = random.Random(6)
    app = CaptionApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(CaptionView)
        for _ in range(25):
            caption = "".join(rng.choices(HOSTILE_PIECES, k=8))
            url = "https://x.example/\x1b]8;;https://evil.example\x07a\x1b]8;;\x07"
            view.show(caption, [f'keyword: "{rng.choice(HOSTILE_PIECES)}" in URL'], {"url": url})
            await pilot.pause()
            lines = screen_lines(app)
            assert not [c for line in lines for c in line if forbidden(c)]
        view.show("[bold]x[/bold] [link=https://evil.example]y[/link] \x1b[2J", ["[red]r[/]"], {})
        await pilot.pause()
        screen = "\n".join(screen_lines(app))
        assert "[bold]x[/bold] [link=https://evil.example]y[/link] ␛[2J" in screen
        assert "• [red]r[/]" in screen


async def test_caption_comes_first_then_reasons_then_metadata():
    app = CaptionApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(CaptionView).show(
            "a cat on a mat", ['keyword: "porn" in URL', "punsafe 0.74"], {"dataset": "laion400m"}
        )
        await pilot.pause()
        screen = "\n".join(screen_lines(app))
    order = [screen.index(s) for s in ("a cat on a mat", "punsafe 0.74", "dataset: laion400m")]
    assert order == sorted(order)


async def test_megabyte_caption_is_paged_then_cut_with_a_marker():
    caption = "long caption words " * 55_000  # ~1 MB
    app = CaptionApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CaptionView)
        view.show(caption, ["keyword: x"], {"dataset": "d"})
        await pilot.pause()
        first = str(view.query_one("#caption-text", Static).content)
        assert len(first) < view.caption_page_chars + 100
        assert first.endswith("more characters) — scroll down for more")
        assert "keyword: x" in "\n".join(screen_lines(app))  # reasons stay in view
        pages = 1
        while view.has_more:  # the reviewer scrolls to the end, again and again
            view.scroller.scroll_end(animate=False)
            await pilot.pause()
            pages += 1
            assert pages <= view.caption_max_chars // view.caption_page_chars
        last = str(view.query_one("#caption-text", Static).content)
        assert last.endswith(f"({len(caption) - view.caption_max_chars:,} more characters)")
        assert len(last) < view.caption_max_chars + 100


async def test_new_item_starts_at_the_first_page_and_the_top():
    app = CaptionApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CaptionView)
        view.show("word " * 5000, [], {})
        await pilot.pause()
        view.scroller.scroll_end(animate=False)
        await pilot.pause()
        view.show("short caption", ["r"], {})
        await pilot.pause()
        assert view.scroller.scroll_y == 0 and not view.has_more
        assert "short caption" in "\n".join(screen_lines(app))


async def test_missing_caption_and_reasons_are_said_plainly():
    app = CaptionApp()
    async with app.run_test(size=(60, 10)) as pilot:
        app.query_one(CaptionView).show(None, [], {})
        await pilot.pause()
        screen = "\n".join(screen_lines(app))
    assert "(no caption)" in screen and "not flagged" in screen
