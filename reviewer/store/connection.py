"""Short-lived DuckDB connections that wait politely for DuckDB's file lock.

DuckDB lets one process hold a database file for writing, and while it does no
other process may open the file at all, not even read-only (measured on these
machines: "Could not set lock on file … Conflicting lock is held"). An audit is
used by several processes at once (reviewers, a flag job, ``reviewer stats``),
so nobody keeps the file open: every operation opens, works and closes
(about 29 ms), and an open that meets a conflicting lock is retried with
back-off until ``busy_timeout_s``. Long jobs (flagging) write their output to
parquet files instead of the database, so they never hold the lock for long.

One exception: a text flag pass reads the audit part after part, and opening a
fresh connection for each part costs more than the reading (a new DuckDB
instance reads its blocks into fresh memory: on 20M rows 2.6 s of a 10.6 s
CPU total went to page faults, 1.2 s with one connection). It keeps one
read-only connection (:class:`HeldReader`) and gives it up between parts as
soon as a writer waits. A writer that meets the lock says so with a marker file
(``cache/duckdb_writers/<pid>``) for as long as it retries; without it, a
writer backing off for half a second could miss every gap between a long
job's reads and wait until the job ends.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from reviewer.atomic import process_alive
from reviewer.errors import AuditBusyError, ReviewerError, first_line

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


T = TypeVar("T")


def _is_lock_conflict(exc: BaseException) -> bool:
    return any(marker in str(exc) for marker in _LOCK_MARKERS)


class ConnectionFactory:
    """Opens connections to one DuckDB file, or hands out one shared in-memory database.

    Args:
        path: The database file, or ``None`` for an in-memory database (tests, notebooks).
        busy_timeout_s: How long to keep retrying while another process holds the file.
        temp_dir: Where DuckDB may spill when a query outgrows memory.
        memory_limit: DuckDB's memory limit, so ingest of huge files stays bounded.
        read_only: Refuse write connections with a clear error (a read-only audit).
        diagnose: Turns a DuckDB error raised while a connection is in use into the
            user's one-line error (a damaged block, a full disk), or ``None`` for a bug.
    """

    def __init__(
        self,
        path: Path | None,
        busy_timeout_s: float = 60.0,
        temp_dir: Path | None = None,
        memory_limit: str = "512MB",
        read_only: bool = False,
        diagnose: Callable[[BaseException], ReviewerError | None] | None = None,
    ) -> None:
        self.path = path
        self.diagnose = diagnose
        self.read_only = read_only
        self.busy_timeout_s = busy_timeout_s
        self.temp_dir = temp_dir
        self.memory_limit = memory_limit
        self._memory: duckdb.DuckDBPyConnection | None = None
        self._memory_lock = threading.RLock()
        if path is None:
            self._memory = duckdb.connect(":memory:")
            self._configure(self._memory)

    def _configure(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute(f"SET memory_limit = '{self.memory_limit}'")
        conn.execute("SET preserve_insertion_order = false")
        if self.temp_dir is not None:
            conn.execute("SET temp_directory = ?", [str(self.temp_dir)])

    @contextlib.contextmanager
    def open(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection; a write connection commits on success and rolls back on error.

        Raises:
            AuditBusyError: Another process kept the file locked past the timeout.
        """
        if self._memory is not None:
            with self._memory_lock:
                cursor = self._memory.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            return
        conn = self._connect(write)
        try:
            yield conn
        except duckdb.Error as exc:
            explained = self.diagnose(exc) if self.diagnose is not None else None
            if explained is None:
                raise
            raise explained from exc
        finally:
            conn.close()

    def _connect(self, write: bool) -> duckdb.DuckDBPyConnection:
        assert self.path is not None
        if write and self.read_only:
            raise ReviewerError(
                f"{self.path.parent}: the audit was opened read-only, nothing can be changed",
                "use a writable copy of the audit for ingest, flag, sample and review",
            )
        if not write and not self.path.exists():
            raise ReviewerError(f"{self.path}: audit database is missing", "run `reviewer init`")
        with self._waiting_marker(write) as announce:
            return self._connect_retrying(write, announce)

    def _connect_retrying(
        self, write: bool, announce: Callable[[], None]
    ) -> duckdb.DuckDBPyConnection:
        assert self.path is not None
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.02
        while True:
            try:
                conn = duckdb.connect(str(self.path), read_only=not write)
            except duckdb.Error as exc:
                if not _is_lock_conflict(exc):
                    explained = self.diagnose(exc) if self.diagnose is not None else None
                    if explained is not None:
                        raise explained from exc
                    raise ReviewerError(
                        f"{self.path}: cannot open the audit database ({first_line(exc)})",
                        "check the file is a reviewer audit and not corrupt",
                    ) from exc
                if time.monotonic() >= deadline:
                    raise AuditBusyError(
                        f"{self.path}: another process has held the audit database for "
                        f"{self.busy_timeout_s:.0f} s",
                        "wait for the running ingest or sampling to finish, then retry",
                    ) from exc
                announce()
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            self._configure(conn)
            return conn

    @property
    def _writers_dir(self) -> Path:
        assert self.path is not None
        return self.path.parent / "cache" / "duckdb_writers"

    @contextlib.contextmanager
    def _waiting_marker(self, write: bool) -> Iterator[Callable[[], None]]:
        """Yield ``announce()``: a writer calls it when the lock is held by someone else,
        creating its marker; the marker is removed once the writer connects or gives up.

        Best effort: where the folder cannot be written (a read-only folder), writers
        only wait as before.
        """
        marker = self._writers_dir / str(os.getpid())
        made = False

        def announce() -> None:
            nonlocal made
            if not write or made:
                return
            try:
                self._writers_dir.mkdir(parents=True, exist_ok=True)
                marker.touch()
                made = True
            except OSError:
                pass

        try:
            yield announce
        finally:
            if made:
                marker.unlink(missing_ok=True)

    def writer_waiting(self) -> bool:
        """Whether another process is waiting to open the file for writing."""
        if self.path is None:
            return False
        try:
            names = [p.name for p in self._writers_dir.iterdir()]
        except OSError:
            return False
        for name in names:
            if not name.isdigit() or int(name) == os.getpid():
                continue
            if process_alive(int(name)):
                return True
            (self._writers_dir / name).unlink(missing_ok=True)  # a killed writer's
        return False

    def held(self) -> HeldReader:
        """A read-only connection kept across reads that yields to writers (see the module)."""
        return HeldReader(self)

    def close(self) -> None:
        """Close the in-memory database, if any."""
        if self._memory is not None:
            self._memory.close()
            self._memory = None


class HeldReader:
    """One read-only connection for a long job's successive reads, given up whenever a
    writer waits: before a read, and while idle between reads (a watcher thread looks
    every :data:`POLL_S`), then reopened once the writer has had the file.

    Use as a context manager; reads may come from any one thread at a time.
    """

    POLL_S = 0.05
    """How often the idle connection looks for a waiting writer."""
    MEMORY_LIMIT = "128MB"
    """DuckDB's limit on the held connection, unless the audit's is lower. Its reads scan
    each block once, so a bigger buffer pool only keeps blocks that will not be read
    again (20M rows of keyword flag: peak RSS 1.3 GB at 512MB, 0.9 GB at 128MB, same CPU)."""

    def __init__(self, factory: ConnectionFactory) -> None:
        self.factory = factory
        self.memory_limit = _smaller(factory.memory_limit, self.MEMORY_LIMIT)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None

    def use(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` on the held connection (opened, or reopened after a writer)."""
        if self.factory.path is None:
            with self.factory.open() as conn:
                return work(conn)
        with self._lock:
            if self._conn is not None and self.factory.writer_waiting():
                self._drop()
            if self._conn is None:
                self._let_writers_in()
                self._conn = self.factory._connect(write=False)
                self._conn.execute(f"SET memory_limit = '{self.memory_limit}'")
                self._watch()
            try:
                return work(self._conn)
            except duckdb.Error as exc:
                explained = self.factory.diagnose(exc) if self.factory.diagnose else None
                if explained is None:
                    raise
                raise explained from exc

    def _let_writers_in(self) -> None:
        """Wait until no writer waits any more (it connected, gave up or died).

        Reopening at once could take the lock back before the writer's next retry.
        """
        deadline = time.monotonic() + self.factory.busy_timeout_s
        while self.factory.writer_waiting() and time.monotonic() < deadline:
            if self._closed.wait(self.POLL_S):
                return  # being closed: nothing more will be read

    def _watch(self) -> None:
        if self._watcher is None:
            self._watcher = threading.Thread(
                target=self._watch_idle, name="reviewer-held-reader", daemon=True
            )
            self._watcher.start()

    def _watch_idle(self) -> None:
        """Close the connection while idle as soon as a writer waits."""
        while not self._closed.wait(self.POLL_S):
            if not self._lock.acquire(blocking=False):
                continue  # a read is running: it looks itself before the next one
            try:
                if self._conn is not None and self.factory.writer_waiting():
                    self._drop()
            finally:
                self._lock.release()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Give the connection up and stop watching."""
        self._closed.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        with self._lock:
            self._drop()

    def __enter__(self) -> HeldReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Progress = Callable[[int, int | None], None]


def fetch_with_progress(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] | None = None,
    progress: Progress | None = None,
) -> list[tuple[Any, ...]]:
    """Run one long statement and report DuckDB's own progress (percent) while it runs.

    A single GROUP BY over millions of rows gives no natural place to count, so the
    statement runs in a thread and ``conn.query_progress()`` is polled four times a
    second; Ctrl-C interrupts DuckDB before it propagates.
    """
    if progress is None:
        return conn.execute(sql, params).fetchall()
    # Without the progress bar enabled DuckDB tracks nothing and query_progress() stays -1;
    # enabled but not printed, it only counts.
    conn.execute("SET enable_progress_bar = true")
    conn.execute("SET enable_progress_bar_print = false")
    result: dict[str, Any] = {}
    # An Event, not Thread.join: a Ctrl-C inside join() can leave the thread looking
    # finished on Python 3.11 while DuckDB still runs (the connection then refuses to close).
    done = threading.Event()

    def work() -> None:
        try:
            result["rows"] = conn.execute(sql, params).fetchall()
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="reviewer-query", daemon=True).start()
    shown = 0.0
    try:
        while not done.wait(0.25):
            # Called on every poll, even while DuckDB cannot tell (-1): the bar must appear
            # after a second whatever the query's shape.
            shown = max(shown, conn.query_progress())
            progress(int(shown), 100)
    except BaseException:
        conn.interrupt()
        done.wait()
        raise
    if "error" in result:
        raise result["error"]
    progress(100, 100)
    rows: list[tuple[Any, ...]] = result["rows"]
    return rows


def _smaller(a: str, b: str) -> str:
    """The smaller of two DuckDB memory sizes (``"512MB"``, ``"2GB"``, ``"80%"`` ...)."""
    try:
        return a if _bytes(a) <= _bytes(b) else b
    except ValueError:  # a percentage or a form DuckDB knows and we do not: keep ours
        return b


def _bytes(size: str) -> float:
    units = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
             "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "B": 1}
    text = size.strip().upper().replace(" ", "")
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    raise ValueError(size)
