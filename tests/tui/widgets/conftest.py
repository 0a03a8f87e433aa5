"""Fixtures of the widget safety tests: a clean render log (``detailed`` is in tests/conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def render_log() -> Iterator[list[object]]:
    """The panel's render log, emptied before and after the test."""
    from reviewer.tui.widgets.image_panel import RENDER_LOG

    RENDER_LOG.clear()
    yield RENDER_LOG  # type: ignore[misc]
    RENDER_LOG.clear()
