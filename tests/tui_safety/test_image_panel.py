"""No unblurred pixel reaches the terminal before a deliberate reveal (instrumented render path)."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual_image.widget import HalfcellImage, UnicodeImage

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
from reviewer.tui.widgets.image_panel import RENDER_HOOKS, TEXT_ONLY, ImagePanel

from ._images import checkerboard, detail_energy

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
        lambda img: Preview("a", RevealStep.HEAVY, safe_preview(img, RevealStep.FULL, Settings().images)),
    ],
    ids=["blurred-elsewhere", "raw", "full-labelled-heavy"],
)
async def test_panel_refuses_pixels_that_did_not_pass_safe_preview(detailed, render_log, bad: Any):
    app = PanelApp()
    async with app.run_test():
        with pytest.raises(UnsafePixelsError):
            app.panel.show("a", RevealStep.HEAVY, bad(detailed))
        assert app.panel.rendered_image is None
    assert list(render_log) == []


async def test_placeholders_say_why_there_is_no_image(detailed, render_log):
    app = PanelApp()
    async with app.run_test() as pilot:
        app.panel.show("a", RevealStep.HIDDEN, None)
        assert app.panel.message == "image hidden — press r to reveal"
        app.panel.show("a", RevealStep.HEAVY, None, LOADING)
        assert app.panel.message == LOADING
        app.panel.show("a", RevealStep.HEAVY, Preview("a", RevealStep.HEAVY, None, "image unavailable (404)"))
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
    RENDER_HOOKS.append(lambda r: seen.append((r.sample_id, r.step)))
    try:
        app = PanelApp()
        async with app.run_test():
            app.panel.show("a", RevealStep.LIGHT, preview(detailed, "a", RevealStep.LIGHT))
    finally:
        RENDER_HOOKS.clear()
    assert seen == [("a", RevealStep.LIGHT)]
