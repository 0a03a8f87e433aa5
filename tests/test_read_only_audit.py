"""A read-only audit (archived, or a shared copy): everything reads, nothing is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import reviewer
from reviewer.audit import Audit
from reviewer.cli.demo_cmd import build_demo_audit, flag_demo_audit
from reviewer.errors import ReviewerError
from reviewer.store import Decision
from tests.conftest import Cli


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time.

    SQLite's own ``-wal`` / ``-shm`` companions are left out: a reader of a WAL
    database in a writable folder creates them to share locks with live writers.
    """
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    """The demo audit, flagged, with two decisions, then closed."""
    audit = build_demo_audit(tmp_path / "demo")
    flag_demo_audit(audit)
    audit.labels.record(Decision("demo-001", "ana", "nsfw", "reject"))
    audit.labels.record(Decision("demo-002", "ana", "nsfw", "confirm"))
    audit.close()
    return tmp_path / "demo"


def test_reads_work_and_nothing_changes_on_disk(archived: Path) -> None:
    before = snapshot(archived)
    handle = reviewer.open_audit(archived, read_only=True)
    assert handle.summary()["samples"] == 53
    labels = handle.labels()
    assert sorted(labels["verdict"].to_pylist()) == ["confirm", "reject"]
    assert handle.flags().num_rows > 0
    assert handle.precision() is not None
    handle.audit.close()
    assert snapshot(archived) == before


def test_writes_are_refused_in_one_line(archived: Path) -> None:
    audit = Audit.open(archived, read_only=True)
    with pytest.raises(ReviewerError, match="opened read-only"):
        audit.labels.record(Decision("demo-003", "ana", "nsfw", "reject"))
    with pytest.raises(ReviewerError, match="opened read-only"), audit.store.connect(write=True):
        pass
    audit.close()
    assert Audit.open(archived).labels.current_labels().num_rows == 2


def test_an_unwritable_folder_opens_read_only_and_immutable(
    archived: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    """Auto-detection (root bypasses permissions, so the check is simulated)."""
    def no_write(path: object, mode: int) -> bool:
        return mode != os.W_OK and real_access(path, mode)  # type: ignore[arg-type]

    real_access = os.access
    monkeypatch.setattr(os, "access", no_write)
    before = snapshot(archived)
    audit = Audit.open(archived)
    assert audit.read_only
    assert not (archived / "labels" / "labels.sqlite-shm").exists()  # immutable: no -shm
    assert audit.labels.current_labels().num_rows == 2
    audit.close()
    result = cli("info", archived)
    assert result.code == 0, result
    assert "labels    2 by 1 reviewer(s)" in result.out
    stats = cli("stats", archived)
    assert stats.code == 0, stats
    sample = cli("sample", archived, "--name", "r1")
    assert sample.code != 0 and "`reviewer sample` would change it" in sample.err
    review = cli("review", archived, "--reviewer", "ana")
    assert review.code != 0 and "`reviewer review` would change it" in review.err
    assert snapshot(archived) == before


def test_a_read_only_audit_without_labels_reads_as_none(tmp_path: Path) -> None:
    Audit.init(tmp_path / "empty").close()
    (tmp_path / "empty" / "labels" / "labels.sqlite").unlink()
    audit = Audit.open(tmp_path / "empty", read_only=True)
    assert audit.labels.current_labels().num_rows == 0
    assert not (tmp_path / "empty" / "labels" / "labels.sqlite").exists()
    audit.close()
