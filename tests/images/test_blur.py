"""The blur/reveal pipeline: step order per mode, what each step keeps, and the safety tag."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from reviewer.config import ImagesSection, Settings
from reviewer.images.blur import (
    RevealStep,
    UnsafePixelsError,
    check_safe,
    default_step,
    downscale,
    next_step,
    prefetch_step,
    safe_preview,
    safe_step,
    step_label,
)
from tests.images.pictures import checkerboard, detail_energy

IMAGES = ImagesSection()


def _settings(mode: str) -> Settings:
    s = Settings()
    s.review.image_mode = mode
    return s


@pytest.mark.parametrize(
    ("mode", "start", "walk"),
    [
        ("blur", RevealStep.HEAVY, [RevealStep.LIGHT, RevealStep.FULL, RevealStep.FULL]),
        ("hidden", RevealStep.HIDDEN, [RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL]),
        ("text-only", RevealStep.HIDDEN, [RevealStep.HIDDEN, RevealStep.HIDDEN, RevealStep.HIDDEN]),
    ],
)
def test_reveal_walks_one_step_at_a_time_per_mode(mode, start, walk):
    settings_ = _settings(mode)
    step = default_step(settings_)
    assert step is start
    seen = []
    for _ in walk:
        step = next_step(step, settings_)
        seen.append(step)
    assert seen == walk


def test_text_only_prefetches_nothing_other_modes_prefetch_heavy():
    assert prefetch_step(_settings("text-only")) is None
    assert prefetch_step(_settings("hidden")) is RevealStep.HEAVY
    assert prefetch_step(_settings("blur")) is RevealStep.HEAVY


def test_hidden_gives_no_pixels(detailed):
    assert safe_preview(detailed, RevealStep.HIDDEN, IMAGES) is None


@pytest.mark.parametrize("step", [RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL])
def test_every_step_is_downscaled_first_and_leaves_the_input_alone(detailed, step):
    before = detailed.tobytes()
    out = safe_preview(detailed, step, IMAGES)
    assert out is not None
    assert max(out.size) == IMAGES.preview_px
    assert detailed.size == (1024, 1024) and detailed.tobytes() == before


def test_heavy_and_light_are_grayscale_full_keeps_colour(detailed):
    assert safe_preview(detailed, RevealStep.HEAVY, IMAGES).mode == "L"
    assert safe_preview(detailed, RevealStep.LIGHT, IMAGES).mode == "L"
    full = np.asarray(safe_preview(detailed, RevealStep.FULL, IMAGES))
    assert full.shape[2] == 3 and np.abs(full[..., 0].astype(int) - full[..., 2]).mean() > 50


@pytest.mark.parametrize("kind", ["checkerboard", "text", "noise"])
def test_heavy_keeps_less_than_a_thousandth_of_the_fine_detail(detailed, kind):
    if kind == "text":
        image = detailed
    elif kind == "noise":
        rng = np.random.default_rng(1)
        image = Image.fromarray(rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8))
    else:
        image = checkerboard()
    full = detail_energy(safe_preview(image, RevealStep.FULL, IMAGES))
    heavy = detail_energy(safe_preview(image, RevealStep.HEAVY, IMAGES))
    light = detail_energy(safe_preview(image, RevealStep.LIGHT, IMAGES))
    assert full > 0
    # above 8 cycles/image (finer than a 16-pixel picture can hold) almost nothing survives
    assert heavy / full < 1e-3
    assert heavy < light < full


def test_radius_scales_with_small_images_so_tiny_images_are_not_sharper():
    small = checkerboard(size=64, square=2)
    heavy = safe_preview(small, RevealStep.HEAVY, IMAGES)
    assert heavy.size == (64, 64)
    assert detail_energy(heavy) / detail_energy(small) < 1e-3


def test_transparency_is_flattened_not_hidden():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    out = safe_preview(rgba, RevealStep.FULL, IMAGES)
    assert out.mode == "RGB" and out.getpixel((5, 5)) == (128, 128, 128)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 700),
    height=st.integers(1, 700),
    mode=st.sampled_from(["RGB", "RGBA", "L", "P", "1", "CMYK", "I;16", "LA", "F"]),
    step=st.sampled_from([RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL]),
)
def test_any_mode_and_shape_gives_a_bounded_tagged_preview(width, height, mode, step):
    out = safe_preview(Image.new(mode, (width, height)), step, IMAGES)
    assert out is not None and max(out.size) <= IMAGES.preview_px and min(out.size) >= 1
    assert out.mode == ("RGB" if step is RevealStep.FULL else "L")
    assert safe_step(out) is step
    check_safe(out, step)


def test_check_safe_refuses_pixels_that_did_not_pass_safe_preview(detailed):
    with pytest.raises(UnsafePixelsError):
        check_safe(downscale(detailed, 256), RevealStep.FULL)
    with pytest.raises(UnsafePixelsError):
        check_safe(detailed, RevealStep.HEAVY)


def test_check_safe_refuses_a_clearer_image_labelled_as_a_blurred_step(detailed):
    full = safe_preview(detailed, RevealStep.FULL, IMAGES)
    with pytest.raises(UnsafePixelsError, match="FULL"):
        check_safe(full, RevealStep.HEAVY)


def test_check_safe_refuses_pixels_edited_after_blurring(detailed):
    heavy = safe_preview(detailed, RevealStep.HEAVY, IMAGES)
    check_safe(heavy, RevealStep.HEAVY)
    heavy.paste(downscale(detailed, 256).convert("L"))
    with pytest.raises(UnsafePixelsError, match="changed"):
        check_safe(heavy, RevealStep.HEAVY)


def test_copies_of_a_safe_image_are_not_safe(detailed):
    heavy = safe_preview(detailed, RevealStep.HEAVY, IMAGES)
    assert safe_step(heavy.copy()) is None


def test_step_labels_name_the_protection():
    assert step_label(RevealStep.HEAVY) == "heavily blurred · grayscale"
    assert "grayscale" in step_label(RevealStep.LIGHT)
    assert "colour" in step_label(RevealStep.FULL)


def test_heavy_stays_coarse_even_if_the_blur_radius_is_configured_away(detailed):
    weak = ImagesSection(heavy_blur_radius=0.0)
    full = detail_energy(safe_preview(detailed, RevealStep.FULL, weak))
    heavy = safe_preview(detailed, RevealStep.HEAVY, weak)
    assert heavy.mode == "L"
    assert detail_energy(heavy) / full < 5e-3  # the 16-cell pixelation alone
