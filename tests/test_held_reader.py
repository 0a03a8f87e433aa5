"""The read connection a text flag pass keeps, and the writers' markers it yields to."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reviewer.store.connection import ConnectionFactory

HOLD_FOR_WRITING = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
conn.close()
"""


def await_true(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for a condition another thread or process brings about."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "audit.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE samples AS SELECT range AS i FROM range(10)")
    return path


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of another process that stays alive for the test."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    yield proc.pid
    proc.communicate(b"")


def count(conn: duckdb.DuckDBPyConnection) -> Any:
    return conn.execute("SELECT count(*) FROM samples").fetchone()[0]  # type: ignore[index]


def test_reads_share_one_connection(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real = duckdb.connect

    def connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        opened.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr("reviewer.store.connection.duckdb.connect", connect)
    with ConnectionFactory(database).held() as reader:
        assert [reader.use(count) for _ in range(5)] == [10] * 5
    assert len(opened) == 1


def test_idle_connection_is_given_up_while_a_writer_waits(database: Path, live_pid: int) -> None:
    factory = ConnectionFactory(database)
    with factory.held() as reader:
        assert reader.use(count) == 10
        marker = database.parent / "cache" / "duckdb_writers" / str(live_pid)
        marker.parent.mkdir(parents=True)
        marker.touch()  # another process says it waits for the lock
        # Idle between reads, the connection is closed by the watcher: a writer could open.
        await_true(lambda: reader._conn is None)
        with duckdb.connect(str(database)) as writer:
            writer.execute("INSERT INTO samples VALUES (10)")
        marker.unlink()  # the writer is done
        assert reader.use(count) == 11  # reopened, and sees the writer's row


def test_a_read_waits_until_the_writer_has_had_the_file(database: Path, live_pid: int) -> None:
    factory = ConnectionFactory(database)
    marker = database.parent / "cache" / "duckdb_writers" / str(live_pid)
    marker.parent.mkdir(parents=True)
    marker.touch()
    got: list[int] = []
    with factory.held() as reader:
        thread = threading.Thread(target=lambda: got.append(reader.use(count)))
        thread.start()
        thread.join(0.3)
        assert thread.is_alive() and not got  # does not take the lock from the waiting writer
        marker.unlink()
        thread.join(20)
    assert got == [10]


def test_a_killed_writers_marker_is_ignored_and_removed(database: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    marker = database.parent / "cache" / "duckdb_writers" / dead.stdout.strip()
    marker.parent.mkdir(parents=True)
    marker.touch()
    factory = ConnectionFactory(database)
    assert not factory.writer_waiting()
    assert not marker.exists()
    with factory.held() as reader:
        assert reader.use(count) == 10


def test_a_writer_marks_itself_while_it_waits_for_the_lock(database: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FOR_WRITING, str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    writers = database.parent / "cache" / "duckdb_writers"
    done: list[int] = []

    def write() -> None:
        with ConnectionFactory(database, busy_timeout_s=30).open(write=True) as conn:
            done.append(count(conn))

    thread = threading.Thread(target=write)
    thread.start()
    try:
        await_true(lambda: writers.exists() and any(writers.iterdir()))
        assert ConnectionFactory(database).writer_waiting() is False  # its own pid: not "other"
    finally:
        holder.communicate("")
    thread.join(30)
    assert done == [10]
    assert not any(writers.iterdir())


def test_the_held_connection_keeps_a_small_buffer_pool(database: Path) -> None:
    """Its reads scan each block once; the audit's own limit applies when it is lower."""
    assert ConnectionFactory(database, memory_limit="2GB").held().memory_limit == "128MB"
    assert ConnectionFactory(database, memory_limit="64MB").held().memory_limit == "64MB"
    with ConnectionFactory(database, memory_limit="2GB").held() as reader:
        setting = reader.use(
            lambda c: c.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
        )
    assert setting.endswith("MiB") and float(setting.split()[0]) < 130
