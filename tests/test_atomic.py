"""Atomic text writes: the old file or the whole new one, and never a device replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from reviewer.atomic import write_text_atomically


def test_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old", encoding="utf-8")
    write_text_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_text_atomically(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_a_pipe_is_written_into_not_replaced(tmp_path: Path) -> None:
    """What ``--out /dev/stdout`` needs; a rename would put a plain file in its place."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    write_text_atomically(fifo, "streamed")
    reader.join(timeout=10)
    assert received == ["streamed"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_missing_folder_raises_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_text_atomically(tmp_path / "nowhere" / "x.txt", "x")
    assert list(tmp_path.iterdir()) == []
