"""Test images with lots of fine detail, and a measure of how much detail survives."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def detail_energy(image: Image.Image, above_cycles: float = 8.0) -> float:
    """Spectral energy of the grayscale image above ``above_cycles`` cycles per image.

    A Hann window removes the wrap-around edge that would otherwise add broadband
    energy; 8 cycles per image is the finest pattern a 16-pixel-wide picture can hold.
    """
    a = np.asarray(image.convert("L"), dtype=float)
    a = a - a.mean()
    h, w = a.shape
    a = a * np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(a)) ** 2 / a.size
    fy, fx = np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w
    radius = np.hypot(*np.meshgrid(fx, fy))
    return float(power[radius > above_cycles].sum())


def checkerboard(size: int = 1024, square: int = 4) -> Image.Image:
    """A fine black-and-white checkerboard in RGB."""
    cells = (np.indices((size, size)) // square).sum(axis=0) % 2
    return Image.fromarray((cells * 255).astype(np.uint8)).convert("RGB")


def text_image(size: int = 1024) -> Image.Image:
    """Lines of large black text on a coloured background (readable when unblurred)."""
    image = Image.new("RGB", (size, size), (200, 40, 40))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 17)
    for i in range(14):
        draw.text((10, i * size // 14), f"SECRET WORDS {i} ABC", fill="white", font=font)
    return image
