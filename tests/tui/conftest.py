"""Fixtures of the review-app tests, named for what they hold.

The root ``audit`` fixture (tests/conftest.py) is an empty audit; here ``small_audit``
is the one most app tests drive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.audit import Audit
from tests.tui.app_fixtures import build_audit


@pytest.fixture
def small_audit(tmp_path: Path) -> Iterator[Audit]:
    """12 LAION-shaped rows on disk; 8 are flagged by their NSFW tag (UNSURE or NSFW)."""
    audit = build_audit(tmp_path / "audit")
    yield audit
    audit.close()
