"""Short-lived DuckDB connections that wait politely for DuckDB's file lock.

DuckDB lets one process hold a database file for writing, and while it does no
other process may open the file at all, not even read-only (measured on these
machines: "Could not set lock on file … Conflicting lock is held"). An audit is
used by several processes at once (reviewers, a flag job, ``reviewer stats``),
so nobody keeps the file open: every operation opens, works and closes
(about 29 ms), and an open that meets a conflicting lock is retried with
back-off until ``busy_timeout_s``. Long jobs (flagging) write their output to
parquet files instead of the database, so they never hold the lock for long.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from reviewer.errors import AuditBusyError, ReviewerError

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


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
                        f"{self.path}: cannot open the audit database ({_first_line(exc)})",
                        "check the file is a reviewer audit and not corrupt",
                    ) from exc
                if time.monotonic() >= deadline:
                    raise AuditBusyError(
                        f"{self.path}: another process has held the audit database for "
                        f"{self.busy_timeout_s:.0f} s",
                        "wait for the running ingest or sampling to finish, then retry",
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            self._configure(conn)
            return conn

    def close(self) -> None:
        """Close the in-memory database, if any."""
        if self._memory is not None:
            self._memory.close()
            self._memory = None


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


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
