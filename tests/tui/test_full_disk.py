"""A full disk while reviewing: the app says what was NOT saved, keeps running, and quits cleanly.

The fault sweep found the first decision after ENOSPC crashing the app with SQLite's
"cannot rollback - no transaction is active" (SQLite had already rolled back after the
failed COMMIT), then again from ``session.end()`` on the way out, losing the summary.
These tests fill a real (tiny tmpfs) disk; where this process may not mount one, they
are skipped, and the SQLite size limit below produces the same SQLITE_FULL portably.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewer.errors import ReviewerError
from reviewer.review.summary import Summary
from reviewer.store.labels import Decision, LabelStore
from reviewer.tui.screens.summary_screen import SummaryScreen
from tests.tui.app_fixtures import SIZE, build_app, build_audit, current_labels, press, until
from tests.tui.helpers import make_session, screen_text


@dataclass
class TinyDisk:
    """A mounted 8 MB tmpfs that :meth:`fill` fills to the last byte."""

    root: Path

    def fill(self, *wal_files: Path) -> None:
        """Leave no free byte; first shrink the given SQLite files' WALs to nothing, so the
        next commit must grow its WAL (a WAL keeps its size and would take a few commits)."""
        for database in wal_files:
            with sqlite3.connect(database) as conn:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            conn.close()
            assert busy == 0
        fd = os.open(self.root / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == 28  # ENOSPC
        finally:
            os.close(fd)
        fd = os.open(self.root / "filler-tail", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0")
        except OSError:
            pass
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.root / "filler").unlink()
        (self.root / "filler-tail").unlink()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[TinyDisk]:
    root = tmp_path / "disk"
    root.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield TinyDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], capture_output=True)


def test_label_store_on_a_full_disk_refuses_in_one_error_and_recovers(tiny_disk: TinyDisk) -> None:
    path = tiny_disk.root / "labels.sqlite"
    store = LabelStore(path)
    try:
        store.record(Decision("a", "ana", "nsfw", "confirm"))
        tiny_disk.fill(path)
        for sample in ("b", "c"):  # the second try is the one that used to crash
            with pytest.raises(ReviewerError, match="database or disk is full") as refused:
                store.record(Decision(sample, "ana", "nsfw", "reject"))
            assert "free disk space" in refused.value.one_line()
        with pytest.raises(ReviewerError, match="disk is full"):
            store.log_exposure("ana", "reveal", "s1", sample_id="a", depth=1)
        tiny_disk.free()
        store.record(Decision("d", "ana", "nsfw", "unsure"))
        assert [r["sample_id"] for r in store.current_labels().to_pylist()] == ["a", "d"]
    finally:
        store.close()


def test_sqlite_full_without_a_disk_to_fill(tmp_path: Path) -> None:
    """The same refusal where no tmpfs can be mounted: SQLite's own size limit (SQLITE_FULL)."""
    store = LabelStore(tmp_path / "labels.sqlite")
    try:
        store.record(Decision("a", "ana", "nsfw", "confirm"))
        # The store's own connection (a private attribute: no public way to cap its size).
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(ReviewerError, match="database or disk is full"):
            store.record(Decision("b", "ana", "nsfw", "reject", note="x" * 20_000))
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        store.record(Decision("c", "ana", "nsfw", "unsure"))
        assert [r["sample_id"] for r in store.current_labels().to_pylist()] == ["a", "c"]
    finally:
        store.close()


def test_session_keeps_exposure_it_cannot_write_and_writes_it_later(tiny_disk: TinyDisk) -> None:
    path = tiny_disk.root / "labels.sqlite"
    labels = LabelStore(path)
    try:
        session, _, clock = make_session(n=4, labels=labels)
        session.decide("confirm")
        tiny_disk.fill(path)
        assert session.reveal() is None  # the reveal happens; its log entry waits
        clock.advance(3)
        with pytest.raises(ReviewerError, match="disk is full"):
            session.decide("reject")
        assert session.unsaved is not None and session.unsaved.startswith("1 exposure record")
        summary = session.end()  # never raises on a full disk
        assert summary.decisions == 1 and summary.unsaved is not None
        assert any(line.startswith("NOT saved: ") for line in summary.lines())
        tiny_disk.free()
        assert session.exposure_log.flush()
        kinds = [r["kind"] for r in labels.exposure().to_pylist()]
        assert kinds == [
            "session_start", "confirmed_harmful", "reveal", "revealed_seconds", "session_end"
        ]
        assert session.unsaved is not None and session.unsaved.startswith("the resume position (")
    finally:
        labels.close()


async def test_review_app_on_a_full_disk_says_not_saved_and_quits_with_the_summary(
    tiny_disk: TinyDisk,
) -> None:
    audit = build_audit(tiny_disk.root / "audit")
    app = build_app(audit)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.review_screen.drawn == app.session.current_id)
        first = app.session.current_id
        await press(pilot, app, "y")
        second = app.session.current_id
        tiny_disk.fill(audit.paths.labels)
        await press(pilot, app, "n")
        text = screen_text(app)
        assert "NOT saved: could not save to the label store" in text, text
        assert app.session.current_id == second  # still on the item: press again to retry
        await press(pilot, app, "r")
        assert "NOT saved: 1 exposure record" in screen_text(app)
        await press(pilot, app, "q")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        text = screen_text(app)
        assert "Reviewer ana: 1 decision (confirm 1)" in text
        assert "NOT saved: " in text and "Decisions were saved as you went" in text
        await press(pilot, app, "enter")
    assert isinstance(app.return_value, Summary) and app.return_value.decisions == 1
    tiny_disk.free()
    assert [(r["sample_id"], r["verdict"]) for r in current_labels(audit)] == [
        (first, "confirm")
    ]
    audit.close()
