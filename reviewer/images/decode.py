"""Decoding untrusted image bytes with Pillow, refusing bombs and broken files.

Images in web-scale datasets are hostile input: truncated downloads, HTML error
pages served as ``.jpg``, and decompression bombs (a few KB that expand to
gigapixels). Every image is verified, size-checked *before* its pixels are
decoded, then fully loaded and converted to RGB, so later steps never touch
the original bytes again.
"""

from __future__ import annotations

import io
import math
import warnings

from PIL import Image, UnidentifiedImageError

from reviewer.errors import ImageUnavailableError


def decode_image(
    data: bytes, max_pixels: int, fit_px: int | None = None, min_side: int | None = None
) -> Image.Image:
    """Decode ``data`` into a fully loaded RGB image.

    Args:
        data: The encoded image (JPEG, PNG, WebP, ...).
        max_pixels: Images with more pixels are refused as possible bombs.
        fit_px: The caller will shrink the image to fit a ``fit_px`` box (previews):
            a JPEG is then decoded at the smallest 1/2, 1/4 or 1/8 scale that still
            covers that box (DCT scaling), several times faster and smaller in
            memory for the multi-megapixel originals fetched from URLs. Other
            formats, and ``None``, decode at full size.
        min_side: The caller will resize the shortest side to ``min_side`` (CLIP's
            preprocessing): a JPEG is decoded at the smallest DCT scale whose shortest
            side is still at least that. Ignored when ``fit_px`` is given.

    Raises:
        ImageUnavailableError: ``not an image``, ``too large`` or ``corrupt``.
    """
    if not data:
        raise ImageUnavailableError("corrupt", "image unavailable (empty file)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            _check(data, max_pixels)
            with Image.open(io.BytesIO(data)) as img:
                target = _draft_target(img.size, fit_px, min_side)
                if target is not None and img.format == "JPEG":
                    img.draft(None, target)
                img.load()
                return _to_rgb(img)
        except ImageUnavailableError:
            raise
        except UnidentifiedImageError as exc:
            raise ImageUnavailableError("not an image") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageUnavailableError("too large") from exc
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise ImageUnavailableError("corrupt") from exc


def _draft_target(
    size: tuple[int, int], fit_px: int | None, min_side: int | None
) -> tuple[int, int] | None:
    """The smallest size the decoded image must cover, or ``None`` for full size.

    ``fit_px``: the size the image fitted into a ``fit_px`` box would have;
    ``min_side``: the size with the shortest side resized to ``min_side``. Never
    larger than the image itself.
    """
    width, height = size
    if fit_px is not None:
        scale = fit_px / max(width, height, 1)
    elif min_side is not None:
        scale = min_side / max(min(width, height), 1)
    else:
        return None
    scale = min(1.0, scale)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _check(data: bytes, max_pixels: int) -> None:
    """Verify the file structure and refuse huge dimensions before any pixel is decoded."""
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        if width <= 0 or height <= 0:
            raise ImageUnavailableError("corrupt")
        if width * height > max_pixels:
            raise ImageUnavailableError(
                "too large", f"image unavailable (too large: {width}x{height} pixels)"
            )
        img.verify()


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB, with transparency flattened onto white (a black background hides shapes)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    rgb = img.convert("RGB")
    rgb.load()
    return rgb
