"""The blur/reveal pipeline: the ONLY producer of pixels that may reach a terminal.

Reviewers judge harmful images for hours. Images therefore start heavily blurred
and grayscale (or hidden), and a clearer view is a deliberate, per-item act that
goes in steps: ``HEAVY`` -> ``LIGHT`` -> ``FULL``. The protection is applied to
the pixels here, in Python, before any renderer sees them, so no terminal
protocol (Kitty, Sixel, half-cell blocks) can show more than the step allows.

Every image :func:`safe_preview` returns is registered with the step it was made
for and a digest of its pixels. The TUI checks that registration
(:func:`check_safe`) right before handing pixels to the renderer, so an image
that did not come from here, was made for a clearer step, or was edited after
the fact is refused.

Order matters for cost and safety: the image is shrunk to ``preview_px`` first
(blurring 256 px instead of 1024 px is ~4x cheaper for the same look), then
made grayscale, pixelated and blurred.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageFilter

if TYPE_CHECKING:
    from reviewer.config import ImagesSection, Settings
    from reviewer.images.preview_cache import Preview, PreviewCache

HEAVY_GRID_PX = 16
"""The heavy step keeps at most this many pixels along the long side before blurring.

Torralba et al. (2008, "80 million tiny images") found scenes and objects still
recognisable at 32x32 in colour; faces and bodies need more than ~16 px across.
Sixteen grayscale cells across the whole picture leave only blobs of light and
dark, so nudity or gore cannot be made out even when a terminal shows the
preview at full resolution.
"""

_MID_GRAY = (128, 128, 128)


class RevealStep(IntEnum):
    """How much of an image a reviewer currently sees; larger means clearer."""

    HIDDEN = 0
    HEAVY = 1
    LIGHT = 2
    FULL = 3


STEP_LABELS: dict[RevealStep, str] = {
    RevealStep.HIDDEN: "hidden",
    RevealStep.HEAVY: "heavily blurred · grayscale",
    RevealStep.LIGHT: "lightly blurred · grayscale",
    RevealStep.FULL: "full colour and detail",
}
"""What each step shows, in the words the image panel uses."""


class UnsafePixelsError(RuntimeError):
    """Pixels about to be rendered did not come from :func:`safe_preview` for that step.

    This is a programming error, never a user error: it means a code path tried
    to bypass the blur pipeline.
    """


def step_label(step: RevealStep) -> str:
    """The reviewer-facing name of a reveal step."""
    return STEP_LABELS[RevealStep(step)]


def default_step(settings: Settings) -> RevealStep:
    """The step every item starts at (and returns to when the reviewer moves on).

    ``blur`` starts heavily blurred; ``hidden`` and ``text-only`` start with no image.
    """
    if settings.review.image_mode == "blur":
        return RevealStep.HEAVY
    return RevealStep.HIDDEN


def next_step(step: RevealStep, settings: Settings) -> RevealStep:
    """One deliberate reveal further: HIDDEN -> HEAVY -> LIGHT -> FULL (FULL stays).

    In ``text-only`` mode images are never shown, so the step stays HIDDEN.
    """
    if settings.review.image_mode == "text-only":
        return RevealStep.HIDDEN
    return RevealStep(min(int(step) + 1, int(RevealStep.FULL)))


def prefetch_step(settings: Settings) -> RevealStep | None:
    """The step worth preparing ahead of time, or None when nothing should be decoded.

    In ``hidden`` mode the first reveal shows HEAVY, so that is what to prefetch;
    ``text-only`` never decodes images at all.
    """
    if settings.review.image_mode == "text-only":
        return None
    return RevealStep.HEAVY


def downscale(image: Image.Image, preview_px: int) -> Image.Image:
    """A new RGB copy no larger than ``preview_px`` on its long side (never enlarged).

    Transparency is flattened onto mid-gray so nothing can hide in an alpha channel.
    The caller's image is left untouched.
    """
    image = _as_rgb(image)
    width, height = image.size
    scale = min(1.0, preview_px / max(width, height, 1))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == image.size:
        return image.copy()
    # reducing_gap=1 shrinks by whole factors with a box filter first: 0.9 ms instead of
    # 4 ms for 1024 -> 256 px, and at preview size the difference cannot be seen.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=1.0)


def safe_preview(image: Image.Image, step: RevealStep, images: ImagesSection) -> Image.Image | None:
    """The pixels a terminal may show for ``image`` at ``step``.

    Args:
        image: The decoded image (any mode, any size); it is not modified.
        step: The reveal step the reviewer has reached.
        images: Preview size and blur radii (radii are in pixels of a
            ``preview_px`` image and are scaled for smaller previews, so the look
            is the same whatever the source size).

    Returns:
        ``None`` for HIDDEN. HEAVY: grayscale, pixelated to ``HEAVY_GRID_PX`` cells
        and blurred with ``heavy_blur_radius``. LIGHT: grayscale, blurred with
        ``light_blur_radius`` (colour stays back until the last, deliberate step:
        red is the strongest cue in gore). FULL: the downscaled colour image.
    """
    step = RevealStep(step)
    if step is RevealStep.HIDDEN:
        return None
    base = downscale(image, images.preview_px)
    scale = max(base.size) / max(images.preview_px, 1)
    if step is RevealStep.FULL:
        out = base
    elif step is RevealStep.LIGHT:
        out = base.convert("L").filter(ImageFilter.GaussianBlur(images.light_blur_radius * scale))
    else:
        out = _heavy(base, images.heavy_blur_radius * scale)
    _register(out, step)
    return out


def check_safe(image: Image.Image, step: RevealStep) -> None:
    """Refuse pixels that :func:`safe_preview` did not produce for exactly ``step``.

    Raises:
        UnsafePixelsError: the image is unknown, was made for another step, or its
            pixels changed since.
    """
    with _LOCK:
        entry = _SAFE.get(id(image))
    if entry is None or entry[0]() is not image:
        raise UnsafePixelsError("image did not pass safe_preview(); refusing to render it")
    if entry[1] is not RevealStep(step):
        raise UnsafePixelsError(
            f"image was made for step {entry[1].name}, not {RevealStep(step).name}"
        )
    if entry[2] != _digest(image):
        raise UnsafePixelsError("image pixels changed after safe_preview(); refusing to render")


def safe_step(image: Image.Image) -> RevealStep | None:
    """The step ``image`` was produced for by :func:`safe_preview`, or None if unknown."""
    with _LOCK:
        entry = _SAFE.get(id(image))
    if entry is None or entry[0]() is not image:
        return None
    return entry[1]


def _heavy(base: Image.Image, radius: float) -> Image.Image:
    """Grayscale, pixelate to a coarse grid, smooth back up, then blur."""
    gray = base.convert("L")
    width, height = gray.size
    cells = HEAVY_GRID_PX / max(width, height)
    grid = (max(1, round(width * cells)), max(1, round(height * cells)))
    if grid[0] < width or grid[1] < height:
        small = gray.resize(grid, Image.Resampling.BOX)
        gray = small.resize((width, height), Image.Resampling.BILINEAR)
    return gray.filter(ImageFilter.GaussianBlur(radius))


def _as_rgb(image: Image.Image) -> Image.Image:
    """The image in RGB, with any transparency composited onto mid-gray."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _MID_GRAY)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


_LOCK = threading.Lock()
_SAFE: dict[int, tuple[weakref.ref[Image.Image], RevealStep, bytes]] = {}
"""id(image) -> (weak reference, step, pixel digest) for every image safe_preview made.

PIL images are unhashable, so they are keyed by ``id`` with a weak reference to
rule out a recycled id; entries vanish when their image is garbage collected.
"""


def _register(image: Image.Image, step: RevealStep) -> None:
    key = id(image)
    entry = (weakref.ref(image), step, _digest(image))
    with _LOCK:
        _SAFE[key] = entry
    weakref.finalize(image, _forget, key, entry[0])


def _forget(key: int, ref: weakref.ref[Image.Image]) -> None:
    with _LOCK:
        entry = _SAFE.get(key)
        if entry is not None and entry[0] is ref:
            del _SAFE[key]


def _digest(image: Image.Image) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest() + image.mode.encode()


def __getattr__(name: str) -> Any:
    """Let ``from reviewer.images.blur import PreviewCache, Preview`` work too."""
    if name in ("Preview", "PreviewCache"):
        from reviewer.images import preview_cache

        return getattr(preview_cache, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HEAVY_GRID_PX",
    "STEP_LABELS",
    "Preview",
    "PreviewCache",
    "RevealStep",
    "UnsafePixelsError",
    "check_safe",
    "default_step",
    "downscale",
    "next_step",
    "prefetch_step",
    "safe_preview",
    "safe_step",
    "step_label",
]
