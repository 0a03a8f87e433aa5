"""Fixtures of the safety tests: a high-detail image and a clean render log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image

from ._images import text_image


@pytest.fixture
def detailed() -> Image.Image:
    """Large text on red: unreadable only if the blur really works."""
    return text_image()


@pytest.fixture
def render_log() -> Iterator[list[object]]:
    """The panel's render log, emptied before and after the test."""
    from reviewer.tui.widgets.image_panel import RENDER_LOG

    RENDER_LOG.clear()
    yield RENDER_LOG  # type: ignore[misc]
    RENDER_LOG.clear()
