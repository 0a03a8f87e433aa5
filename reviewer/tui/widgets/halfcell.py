"""A faster half-cell image renderer (the fallback in tmux and plain terminals).

textual-image's half-cell renderer builds one Rich ``Color`` and ``Style`` per
character cell: a 120x40 terminal took ~130 ms per image here, more than the
whole 50 ms budget for moving to the next item. This renderer draws exactly the
same cells (same resize, same ``▀`` with foreground = upper pixel and background
= lower pixel) but computes them with numpy, reuses styles across cells and
images, and merges runs of identical cells into one segment; rendered lines are
kept until the image or the size changes.

:class:`~reviewer.tui.widgets.image_panel.ImagePanel` uses it wherever
textual-image would have used its own half-cell renderer.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import cast

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual_image._geometry import ImageSize
from textual_image._terminal import get_cell_size
from textual_image.widget._base import Image as BaseImage

UPPER_HALF = "▀"


@lru_cache(maxsize=65_536)
def _style(upper: int, lower: int) -> Style:
    """The style of a cell whose upper pixel is ``upper`` and lower ``lower`` (0xRRGGBB)."""
    return Style(color=_color(upper), bgcolor=_color(lower))


@lru_cache(maxsize=4_096)
def _color(rgb: int) -> Color:
    return Color.from_triplet(ColorTriplet((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255))


def half_cell_rows(image: PILImage.Image, width: int, height: int) -> list[list[Segment]]:
    """Segments for ``height`` rows of ``width`` cells showing ``image`` (two pixels per cell).

    The image is resized exactly as textual-image does, so the cells are the same.
    """
    if width <= 0 or height <= 0:
        return []
    pixels = np.asarray(image.convert("RGB").resize((width, height * 2)), dtype=np.uint32)
    packed = ((pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]).tolist()
    return [_row(packed[2 * y], packed[2 * y + 1]) for y in range(height)]


def _row(upper: list[int], lower: list[int]) -> list[Segment]:
    """One row of cells, runs of identical cells merged into one segment."""
    segments = []
    start, count = 0, len(upper)
    for x in range(1, count + 1):
        if x == count or upper[x] != upper[start] or lower[x] != lower[start]:
            segments.append(Segment(UPPER_HALF * (x - start), _style(upper[start], lower[start])))
            start = x
    return segments


class FastHalfcell:
    """Rich renderable drawing an image as coloured half cells (textual-image's protocol)."""

    def __init__(
        self,
        image: PILImage.Image,
        width: int | str | None = None,
        height: int | str | None = None,
    ) -> None:
        self._image = image
        self._render_size = ImageSize(image.width, image.height, width, height)
        self._rows: dict[tuple[int, int], list[list[Segment]]] = {}

    def cleanup(self) -> None:
        """Nothing to free: no data lives in the terminal."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, height = self._cells(options)
        rows = self._rows.get((width, height))
        if rows is None:
            rows = self._rows[(width, height)] = half_cell_rows(self._image, width, height)
        return _lines(rows)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width, _ = self._cells(options)
        return Measurement(width, width)

    def _cells(self, options: ConsoleOptions) -> tuple[int, int]:
        return self._render_size.get_cell_size(
            options.max_width, options.max_height, get_cell_size()
        )


def _lines(rows: list[list[Segment]]) -> Iterator[Segment]:
    newline = Segment.line()
    for row in rows:
        yield from row
        yield newline


class FastHalfcellImage(BaseImage, Renderable=FastHalfcell):
    """textual-image's half-cell widget with the faster renderer (same cells on screen).

    It draws through Textual's line API: the strips are computed once per image
    and size and handed over as they are, skipping the per-segment work of
    rendering a Rich renderable on every refresh.
    """

    def render_line(self, y: int) -> Strip:
        strips = self._strips()
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width)

    def _strips(self) -> list[Strip]:
        image = self.image
        if not isinstance(image, PILImage.Image):
            return []
        size = (self.size.width, self.size.height, self._get_styled_size())
        cached = getattr(self, "_reviewer_strips", None)
        if cached is not None and cached[0] is image and cached[1] == size:
            return cast(list[Strip], cached[2])
        # the same cell size textual-image's renderable would pick in this widget
        width, height = ImageSize(
            image.width, image.height, *self._get_styled_size()
        ).get_cell_size(self.size.width, self.size.height, get_cell_size())
        strips = [
            Strip(row, width).extend_cell_length(self.size.width)
            for row in half_cell_rows(image, width, height)
        ]
        self._reviewer_strips = (image, size, strips)
        return strips


__all__ = ["FastHalfcell", "FastHalfcellImage", "half_cell_rows"]
