"""No unblurred pixel reaches the terminal before a deliberate reveal (instrumented render path)."""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual_image.widget import HalfcellImage, SixelImage, UnicodeImage

from reviewer.config import Settings
from reviewer.images.blur import (
    RevealStep,
    UnsafePixelsError,
    default_step,
    downscale,
    next_step,
    safe_preview,
)
from reviewer.images.preview_cache import LOADING, Preview, PreviewCache
from reviewer.tui.widgets.image_panel import REFUSED, RENDER_HOOKS, TEXT_ONLY, ImagePanel
from tests.images.pictures import checkerboard, detail_energy
from tests.tui.helpers import CELL_WIDTH

WAIT = 10


class PanelApp(App[None]):
    def __init__(self, renderer: type = UnicodeImage, text_only: bool = False) -> None:
        super().__init__()
        self.panel = ImagePanel(renderer=renderer, text_only=text_only)

    def compose(self) -> ComposeResult:
        yield self.panel


def preview(image: Image.Image, sid: str, step: RevealStep) -> Preview:
    return Preview(sid, step, safe_preview(image, step, Settings().images))


async def test_default_step_renders_only_heavy_grayscale_low_detail(audit, detailed, render_log):
    images = {f"s{i}": (detailed if i % 2 else checkerboard()) for i in range(6)}
    settings = Settings()
    step = default_step(settings)
    with PreviewCache(audit, loader=lambda a, s: images[s["sample_id"]]) as cache:
        app = PanelApp(renderer=HalfcellImage)
        async with app.run_test(size=(80, 40)) as pilot:
            for sid in images:  # the reviewer pages through items without revealing
                shown = cache.request({"sample_id": sid}, step).result(WAIT)
                app.panel.show(sid, step, shown)
                await pilot.pause()
                rendered = app.panel.rendered_image
                assert rendered is not None and rendered.mode == "L"
                full = downscale(images[sid], 256)
                assert detail_energy(rendered) < 1e-3 * detail_energy(full)
    assert [(r.sample_id, r.step) for r in render_log] == [(s, RevealStep.HEAVY) for s in images]


async def test_clearer_steps_render_only_after_each_reveal(detailed, render_log):
    settings = Settings()
    app = PanelApp()
    async with app.run_test() as pilot:
        step = default_step(settings)
        app.panel.show("a", step, preview(detailed, "a", step))
        await pilot.pause()
        assert [r.step for r in render_log] == [RevealStep.HEAVY]
        step = next_step(step, settings)
        # the cache has not produced LIGHT yet: the old HEAVY preview must not be reused
        app.panel.show("a", step, preview(detailed, "a", RevealStep.HEAVY), LOADING)
        assert app.panel.rendered_image is None and app.panel.message == LOADING
        app.panel.show("a", step, preview(detailed, "a", step))
        await pilot.pause()
        step = next_step(step, settings)
        app.panel.show("a", step, preview(detailed, "a", step))
        await pilot.pause()
        assert app.panel.rendered_image.mode == "RGB"
        # moving on returns to the default; another item's preview is never shown
        app.panel.show("b", default_step(settings), preview(detailed, "a", RevealStep.HEAVY))
        await pilot.pause()
        assert app.panel.rendered_image is None
    assert [r.step for r in render_log] == [RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL]


@pytest.mark.parametrize(
    "bad",
    [
        lambda img: Preview("a", RevealStep.HEAVY, downscale(img, 256).convert("L")),
        lambda img: Preview("a", RevealStep.HEAVY, img),
        lambda img: Preview(
            "a", RevealStep.HEAVY, safe_preview(img, RevealStep.FULL, Settings().images)
        ),
    ],
    ids=["blurred-elsewhere", "raw", "full-labelled-heavy"],
)
async def test_panel_refuses_pixels_that_did_not_pass_safe_preview(detailed, render_log, bad: Any):
    app = PanelApp()
    async with app.run_test():
        app.panel.show("z", RevealStep.HEAVY, preview(detailed, "z", RevealStep.HEAVY))
        with pytest.raises(UnsafePixelsError):
            app.panel.show("a", RevealStep.HEAVY, bad(detailed))
        assert app.panel.rendered_image is None  # the previous item's pixels are gone too
        assert app.panel.message == REFUSED
    assert [r.sample_id for r in render_log] == ["z"]


async def test_placeholders_say_why_there_is_no_image(detailed, render_log):
    app = PanelApp()
    async with app.run_test() as pilot:
        app.panel.show("a", RevealStep.HIDDEN, None)
        assert app.panel.message == "image hidden — press r to reveal"
        app.panel.show("a", RevealStep.HEAVY, None, LOADING)
        assert app.panel.message == LOADING
        app.panel.show(
            "a", RevealStep.HEAVY, Preview("a", RevealStep.HEAVY, None, "image unavailable (404)")
        )
        assert app.panel.message == "image unavailable (404)"
        app.panel.show(None, RevealStep.HEAVY, None)
        assert app.panel.message == "no item"
        await pilot.pause()
        assert app.panel.rendered_image is None
    assert list(render_log) == []


async def test_text_only_never_renders_even_a_valid_preview(detailed, render_log):
    app = PanelApp(text_only=True)
    async with app.run_test() as pilot:
        app.panel.show("a", RevealStep.FULL, preview(detailed, "a", RevealStep.FULL))
        await pilot.pause()
        assert app.panel.message == TEXT_ONLY
        assert app.panel.rendered_image is None
    assert list(render_log) == []


async def test_show_before_mount_is_applied_on_mount(detailed, render_log):
    panel = ImagePanel(renderer=UnicodeImage)
    panel.show("a", RevealStep.HEAVY, preview(detailed, "a", RevealStep.HEAVY))

    class Early(App[None]):
        def compose(self) -> ComposeResult:
            yield panel

    async with Early().run_test() as pilot:
        await pilot.pause()
        assert panel.rendered_image is not None
    assert [(r.sample_id, r.step) for r in render_log] == [("a", RevealStep.HEAVY)]


async def test_render_hooks_see_every_hand_off(detailed, render_log):
    seen: list[tuple[str, RevealStep]] = []

    def hook(record: Any) -> None:
        seen.append((record.sample_id, record.step))

    RENDER_HOOKS.append(hook)
    try:
        app = PanelApp()
        async with app.run_test():
            app.panel.show("a", RevealStep.LIGHT, preview(detailed, "a", RevealStep.LIGHT))
    finally:
        RENDER_HOOKS.remove(hook)
    assert seen == [("a", RevealStep.LIGHT)]


_FILLS = re.compile(r"\.([\w-]+) \{ fill: (#[0-9a-f]{6})")
_RECTS = re.compile(
    r'<rect fill="(#[0-9a-f]{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" '
    r'shape-rendering'
)
_BLOCKS = re.compile(
    r'<text class="([^"]*)" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^"]*-line-(\d+)\)">(▀+)</text>'
)
LINE_HEIGHT = 24.4
"""Pixels per line in Textual's SVG screenshot (Rich: 1.22 × its 20 px font; rows start 1.5
px down)."""


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def terminal_cells(app: App[None]) -> np.ndarray:
    """The colours of the half-cell blocks on screen as an RGB array (2 pixels per cell).

    Read from Textual's public SVG screenshot (``App.export_screenshot``): the upper half
    of each ``▀`` cell is its text colour, the lower half its background. This is what
    the terminal is sent for the image, after textual-image and Textual's compositor.
    """
    svg = app.export_screenshot()
    fills = dict(_FILLS.findall(svg))
    backgrounds: dict[tuple[int, int], str] = {}
    for colour, x, y, width in _RECTS.findall(svg):
        row, col = round((float(y) - 1.5) / LINE_HEIGHT), round(float(x) / CELL_WIDTH)
        for c in range(col, col + round(float(width) / CELL_WIDTH)):
            backgrounds[row, c] = colour
    lines: dict[int, tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]] = {}
    for cls, x, line, blocks in _BLOCKS.findall(svg):
        top, bottom = lines.setdefault(int(line), ([], []))
        col = round(float(x) / CELL_WIDTH)
        for c in range(col, col + len(blocks)):
            top.append(_rgb(fills[cls]))
            bottom.append(_rgb(backgrounds[int(line), c]))
    rows: list[list[tuple[int, int, int]]] = []
    for line in sorted(lines):
        rows += list(lines[line])
    return np.array(rows, dtype=np.uint8)


@pytest.mark.parametrize("kind", ["text", "checkerboard"])
async def test_terminal_receives_only_gray_low_detail_cells_until_revealed(detailed, kind):
    image = detailed if kind == "text" else checkerboard(square=16)
    app = PanelApp(renderer=HalfcellImage)
    async with app.run_test(size=(70, 36)) as pilot:
        shown = {}
        for step in (RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL):
            app.panel.show("a", step, preview(image, "a", step))
            await pilot.pause()
            shown[step] = terminal_cells(app)
    heavy, full = shown[RevealStep.HEAVY], shown[RevealStep.FULL]
    assert heavy.size and heavy.shape == full.shape
    assert (heavy[..., 0] == heavy[..., 1]).all() and (heavy[..., 1] == heavy[..., 2]).all()
    assert (shown[RevealStep.LIGHT][..., 0] == shown[RevealStep.LIGHT][..., 2]).all()
    as_image = {step: Image.fromarray(cells) for step, cells in shown.items()}
    heavy_detail = detail_energy(as_image[RevealStep.HEAVY], above_cycles=4)
    full_detail = detail_energy(as_image[RevealStep.FULL], above_cycles=4)
    assert heavy_detail < 0.01 * full_detail


@pytest.mark.parametrize("renderer", [UnicodeImage, HalfcellImage, SixelImage])
async def test_each_renderer_shows_then_clears_the_pixels(detailed, render_log, renderer):
    app = PanelApp(renderer=renderer)
    async with app.run_test(size=(60, 30)) as pilot:
        heavy = preview(detailed, "a", RevealStep.HEAVY)
        app.panel.show("a", RevealStep.HEAVY, heavy)
        await pilot.pause()
        assert app.panel.rendered_image is heavy.image
        app.panel.show("b", RevealStep.HEAVY, None, LOADING)
        await pilot.pause()
        assert app.panel.rendered_image is None
        assert app.panel.query_one("#image-pixels").image is None  # nothing left to redraw
    assert [(r.sample_id, r.step) for r in render_log] == [("a", RevealStep.HEAVY)]


async def test_random_navigation_never_renders_beyond_the_requested_step(detailed, render_log):
    """Stale, early and mismatched previews, in any order, never reach the renderer."""
    rng = random.Random(6)
    steps = list(RevealStep)
    made = {
        (sid, step): preview(detailed, sid, step)
        for sid in ("a", "b", "c")
        for step in steps
        if step is not RevealStep.HIDDEN
    }
    app = PanelApp()
    async with app.run_test() as pilot:
        for _ in range(150):
            sid, step = rng.choice("abc"), rng.choice(steps)
            offered = rng.choice([None, *made.values()])
            before = len(render_log)
            app.panel.show(sid, step, offered)
            rendered = app.panel.rendered_image
            if rendered is not None:  # shown now: exactly the offer, for this very sample and step
                assert offered is not None and rendered is offered.image
                assert (render_log[-1].sample_id, render_log[-1].step) == (sid, step)
                assert (offered.sample_id, offered.step) == (sid, step)
            else:
                assert len(render_log) == before
        await pilot.pause()
    assert len(render_log) > 5, "some offers matched and were rendered"
