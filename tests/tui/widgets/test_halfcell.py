"""The faster half-cell renderer draws exactly the cells textual-image's would."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual_image.renderable.halfcell import Image as TextualImageHalfcell
from textual_image.widget import HalfcellImage, UnicodeImage
from textual_image.widget._base import Image as BaseImage

from reviewer.config import ImagesSection
from reviewer.images.blur import RevealStep, safe_preview
from reviewer.tui.widgets import image_panel
from reviewer.tui.widgets.halfcell import FastHalfcell, FastHalfcellImage
from reviewer.tui.widgets.image_panel import ImagePanel
from tests.tui.widgets.test_image_panel import terminal_cells


def _cells(renderable: object, width: int = 70, height: int = 30) -> list[tuple[object, object]]:
    console = Console(width=width, height=height, force_terminal=True, color_system="truecolor")
    out = []
    for segment in console.render(renderable, console.options.update(height=height)):
        if segment.text and set(segment.text) == {"▀"} and segment.style:
            out += [(segment.style.color, segment.style.bgcolor)] * len(segment.text)
    return out


@pytest.mark.parametrize("step", [RevealStep.HEAVY, RevealStep.FULL])
def test_renderable_cells_match_textual_image(detailed, step):
    image = safe_preview(detailed, step, ImagesSection())
    ours = _cells(FastHalfcell(image, "auto", "auto"))
    theirs = _cells(TextualImageHalfcell(image, "auto", "auto"))
    assert len(ours) > 1000 and ours == theirs


class Side(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


@pytest.mark.parametrize("size", [(60, 24), (101, 37)])
@pytest.mark.parametrize("auto", [False, True], ids=["natural", "auto"])
async def test_widget_puts_the_same_cells_on_screen(detailed, size, auto):
    image = safe_preview(detailed, RevealStep.FULL, ImagesSection())
    screens = []
    for widget_class in (HalfcellImage, FastHalfcellImage):
        widget = widget_class(image)
        if auto:  # as in the image panel: as large as fits, aspect kept
            widget.styles.width = "auto"
            widget.styles.height = "auto"
        app = Side(widget)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screens.append(terminal_cells(app))
    assert screens[0].shape[1] >= (size[0] // 2 if auto else 20)
    assert np.array_equal(screens[0], screens[1])


async def test_widget_redraws_when_the_image_changes():
    first = Image.new("RGB", (40, 40), (250, 0, 0))
    second = Image.new("RGB", (40, 40), (0, 0, 250))
    widget = FastHalfcellImage(first)
    async with Side(widget).run_test(size=(30, 20)) as pilot:
        await pilot.pause()
        before = terminal_cells(pilot.app)
        widget.image = second
        await pilot.pause()
        after = terminal_cells(pilot.app)
    assert (before[..., 0] > 200).all() and (after[..., 2] > 200).all()


def test_image_panel_uses_the_fast_renderer_for_half_cells(monkeypatch):
    assert ImagePanel(renderer=HalfcellImage)._renderer_class is FastHalfcellImage
    assert ImagePanel(renderer=UnicodeImage)._renderer_class is UnicodeImage

    # what textual-image picks by itself in tmux: an auto widget drawing half cells
    class AutoHalfcell(BaseImage, Renderable=TextualImageHalfcell):
        pass

    monkeypatch.setattr(image_panel, "AutoImage", AutoHalfcell)
    assert ImagePanel()._renderer_class is FastHalfcellImage
