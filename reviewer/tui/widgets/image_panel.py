"""The image panel: shows a sample's image only as far as the reviewer has revealed it.

The panel never blurs anything itself and never loads images: it is handed a
:class:`~reviewer.images.preview_cache.Preview` made by
:func:`~reviewer.images.blur.safe_preview` and draws it with textual-image (Kitty
or Sixel graphics where the terminal has them, coloured half-cell blocks
otherwise, e.g. in tmux; Unicode blocks without a tty).

Every image goes to the renderer through one method, :meth:`ImagePanel._hand_to_renderer`,
which checks that the pixels came from ``safe_preview`` for exactly the step
shown (else :class:`~reviewer.images.blur.UnsafePixelsError`) and records
``(sample_id, step)`` in :data:`RENDER_LOG`, so tests can prove that nothing
clearer than the default step was drawn before a reveal.

textual-image picks its renderer when imported and queries the terminal then,
so import this module before the app starts (the app module does).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image as PILImage
from rich.text import Text
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Static
from textual_image.renderable.halfcell import Image as HalfcellRenderable
from textual_image.widget import Image as AutoImage

from reviewer.images.blur import RevealStep, UnsafePixelsError, check_safe, step_label
from reviewer.images.preview_cache import LOADING, Preview
from reviewer.tui.widgets.halfcell import FastHalfcellImage
from reviewer.tui.widgets.renderers import default_renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderRecord:
    """One image handed to the terminal renderer."""

    sample_id: str
    step: RevealStep
    at: float
    """``time.monotonic()`` of the hand-off."""


RENDER_LOG: deque[RenderRecord] = deque(maxlen=10_000)
"""The last images handed to any terminal renderer, oldest first (tests clear it)."""
RENDER_HOOKS: list[Callable[[RenderRecord], None]] = []
"""Callables told about every hand-off (e.g. an exposure logger or a test spy)."""

TEXT_ONLY = "text-only mode: images are never shown"
NO_ITEM = "no item"
REFUSED = "image refused: it did not pass the blur pipeline (a bug; please report it)"


class ImagePanel(Widget):
    """Shows one sample's image at the reveal step the reviewer chose, or says why not.

    Args:
        renderer: A textual-image widget class (``UnicodeImage``, ``HalfcellImage``,
            ``TGPImage``, ``SixelImage``); default: the one textual-image chose for
            this terminal (half-cells in tmux, see :mod:`.renderers`). Tests pass an
            explicit class. ``HalfcellImage`` is drawn by :class:`FastHalfcellImage`
            (same cells, several times faster).
        text_only: Never show images (``image_mode = "text-only"``).
        reveal_key: The key named in the "press … to reveal" hint.
    """

    DEFAULT_CSS = """
    ImagePanel {
        height: 1fr;
        width: 1fr;
        layout: vertical;
    }
    ImagePanel > #image-label {
        height: 1;
        width: 1fr;
        color: $text-muted;
    }
    ImagePanel > #image-placeholder {
        height: 1fr;
        width: 1fr;
        content-align: center middle;
        text-align: center;
        color: $text-muted;
        border: round $panel-lighten-2;
    }
    ImagePanel > #image-pixels {
        width: auto;
        height: auto;
        max-height: 1fr;
    }
    """

    def __init__(
        self,
        *,
        renderer: type[Widget] | None = None,
        text_only: bool = False,
        reveal_key: str = "r",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._renderer_class: type[Any] = _faster(renderer or default_renderer() or AutoImage)
        self.text_only = text_only
        self.reveal_key = reveal_key
        self.sample_id: str | None = None
        self.step: RevealStep = RevealStep.HIDDEN
        self.message: str = NO_ITEM
        """What the placeholder says now ("" while an image is shown)."""
        self._shown: tuple[Preview | None, str] = (None, "")

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="image-label", markup=False)
        yield Static(Text(NO_ITEM), id="image-placeholder", markup=False)
        pixels = self._renderer_class(id="image-pixels")
        pixels.display = False
        yield pixels

    def on_mount(self) -> None:
        """Apply a ``show`` that arrived before the panel was composed."""
        self._apply()

    @property
    def rendered_image(self) -> PILImage.Image | None:
        """The pixels the renderer holds now (None when a placeholder shows)."""
        pixels = self._pixels()
        if pixels is None or not pixels.display:
            return None
        image: PILImage.Image | None = pixels.image
        return image

    def show(
        self,
        sample_id: str | None,
        step: RevealStep,
        preview: Preview | None,
        status: str = "",
    ) -> None:
        """Show ``sample_id`` at ``step``: its preview if it matches, else a placeholder.

        Args:
            sample_id: The current item, or None when there is none.
            step: The reveal step the reviewer is at.
            preview: From the preview cache; used only if it is for this very
                sample and step (a stale or early preview shows as loading).
            status: Shown when there is no usable preview ("loading image…",
                "image unavailable (404)").

        Raises:
            UnsafePixelsError: the preview's pixels did not come from
                ``safe_preview`` for ``step``.
        """
        self.sample_id, self.step = sample_id, RevealStep(step)
        self._shown = (preview, status)
        if self.is_mounted:
            self._apply()

    def _apply(self) -> None:
        """Turn the current (sample, step, preview, status) into pixels or a placeholder."""
        sample_id, (preview, status) = self.sample_id, self._shown
        if sample_id is None:
            self._placeholder(NO_ITEM, "")
        elif self.text_only:
            self._placeholder(TEXT_ONLY, "text only")
        elif self.step is RevealStep.HIDDEN:
            self._placeholder(f"image hidden — press {self.reveal_key} to reveal", "hidden")
        elif preview is None or preview.sample_id != sample_id or preview.step != self.step:
            if preview is not None:
                log.debug(
                    "stale preview %s/%s for %s/%s",
                    preview.sample_id,
                    preview.step,
                    sample_id,
                    self.step,
                )
            self._placeholder(status or LOADING, step_label(self.step))
        elif preview.image is None:
            self._placeholder(preview.status or status or "image unavailable", "")
        else:
            self._hand_to_renderer(sample_id, preview)

    def _placeholder(self, message: str, label: str) -> None:
        """Show a message instead of pixels (and drop any pixels held)."""
        self.message = message
        pixels = self._pixels()
        if pixels is not None:
            pixels.image = None
            pixels.display = False
        self._set_static("#image-placeholder", message)
        self._show_placeholder(True)
        self._set_static("#image-label", label)

    def _hand_to_renderer(self, sample_id: str, preview: Preview) -> None:
        """THE path from pixels to the terminal: check, record, render.

        Pixels already on screen are not handed over again (Kitty and Sixel would
        re-send them); refused pixels first clear whatever was shown before.
        """
        assert preview.image is not None
        try:
            check_safe(preview.image, preview.step)
        except UnsafePixelsError:
            self._placeholder(REFUSED, "")
            raise
        pixels = self._pixels()
        self.message = ""
        self._show_placeholder(False)
        self._set_static("#image-label", step_label(preview.step))
        if pixels is None or (pixels.display and pixels.image is preview.image):
            return
        record = RenderRecord(sample_id, preview.step, time.monotonic())
        RENDER_LOG.append(record)
        for hook in list(RENDER_HOOKS):
            hook(record)
        pixels.image = preview.image
        pixels.display = True

    def _pixels(self) -> Any:
        """The textual-image widget, or None before the panel is composed."""
        try:
            return self.query_one("#image-pixels")
        except NoMatches:
            return None

    def _show_placeholder(self, visible: bool) -> None:
        with contextlib.suppress(NoMatches):
            self.query_one("#image-placeholder", Static).display = visible

    def _set_static(self, selector: str, text: str) -> None:
        with contextlib.suppress(NoMatches):
            self.query_one(selector, Static).update(Text(text))


def _faster(renderer: type[Any]) -> type[Any]:
    """The renderer to use: textual-image's half-cell widget (chosen explicitly, or picked
    automatically in tmux and other terminals without graphics) is swapped for the
    same-looking, several times faster :class:`FastHalfcellImage`."""
    uses_half_cells = getattr(renderer, "_Renderable", None) is HalfcellRenderable
    return FastHalfcellImage if uses_half_cells else renderer


__all__ = [
    "NO_ITEM",
    "REFUSED",
    "RENDER_HOOKS",
    "RENDER_LOG",
    "TEXT_ONLY",
    "ImagePanel",
    "RenderRecord",
]
