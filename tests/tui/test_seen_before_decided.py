"""Nothing is judged unseen: decision keys act only on an item whose caption and reasons show.

A fault sweep found that while another process held DuckDB's lock, an item past the
loaded rows showed "(no caption) · loading sample…" and ``y`` stored a real label
on it. These tests hold the lock from a real second process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reviewer.audit import Audit
from tests.tui.app_fixtures import SIZE, build_app, current_labels, press, until
from tests.tui.helpers import screen_text

HOLD_LOCK = (
    "import duckdb, sys\n"
    "conn = duckdb.connect(sys.argv[1])\n"  # read-write: every other process is locked out
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
    "conn.close()\n"
)


@contextmanager
def lock_held(database: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding ``database`` read-write, as ingest or sample would."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == 0


async def test_decision_keys_wait_while_another_process_holds_the_database(
    small_audit: Audit,
) -> None:
    app = build_app(small_audit)  # the queue is read before the lock is taken
    with lock_held(small_audit.paths.database) as holder:
        async with app.run_test(size=SIZE) as pilot:
            first = app.session.current_id
            await until(pilot, lambda: "loading sample" in screen_text(app))
            for key in ("y", "n", "u", "s", "e", "e"):
                await pilot.press(key)
                assert f"still loading {first}: nothing saved" in screen_text(app)
                assert app.session.current_id == first
            assert current_labels(small_audit) == []
            assert small_audit.labels.quarantined_ids() == set()

            release(holder)
            await until(pilot, lambda: app.review_screen.drawn == first)
            assert "flagged because" in screen_text(app)
            await pilot.press("n")
            assert f"saved: reject · nsfw · {first}" in screen_text(app)
    assert [(r["sample_id"], r["verdict"]) for r in current_labels(small_audit)] == [
        (first, "reject")
    ]


async def test_the_key_that_cancels_an_escalation_does_nothing_else(small_audit: Audit) -> None:
    app = build_app(small_audit)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.review_screen.drawn is not None)
        first = app.session.current_id
        await press(pilot, app, "e")
        assert "again to escalate" in screen_text(app)
        await press(pilot, app, "n")  # cancels; must not also save a reject
        assert "escalation cancelled: nothing saved" in screen_text(app)
        assert current_labels(small_audit) == []
        assert app.session.current_id == first
        await press(pilot, app, "e", "right")  # a move key cancels without moving
        assert app.session.current_id == first
        await press(pilot, app, "n")  # disarmed: the next key acts again
        assert f"saved: reject · nsfw · {first}" in screen_text(app)
    assert [(r["sample_id"], r["verdict"]) for r in current_labels(small_audit)] == [
        (first, "reject")
    ]
    assert small_audit.labels.quarantined_ids() == set()


def test_the_second_process_really_holds_the_lock(small_audit: Audit) -> None:
    """The premise of the test above: while it is held, this process cannot even read."""
    import duckdb

    with lock_held(small_audit.paths.database) as holder:
        with pytest.raises(duckdb.Error, match="lock"):
            duckdb.connect(str(small_audit.paths.database), read_only=True)
        release(holder)
    duckdb.connect(str(small_audit.paths.database), read_only=True).close()
