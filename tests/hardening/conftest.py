"""Fixtures of the hardening tests: a flagged demo audit with decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.cli.demo_cmd import build_demo_audit, flag_demo_audit
from reviewer.store import Decision


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (SQLite's -wal/-shm companions aside) with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo audit, flagged, with 29 decisions by ana, built once and copied per test."""
    root = tmp_path_factory.mktemp("template") / "demo"
    audit = build_demo_audit(root)
    flag_demo_audit(audit)
    for i in range(1, 30):
        verdict = "reject" if i % 2 else "confirm"
        audit.labels.record(Decision(f"demo-{i:03d}", "ana", "nsfw", verdict))
    audit.close()
    return root


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the flagged demo audit."""
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(demo_template, target)
    return target
