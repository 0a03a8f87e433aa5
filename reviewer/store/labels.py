"""The human side of an audit: decisions, exposure and quarantine, in SQLite (WAL).

Why not DuckDB: DuckDB lets one process write a file and then locks everyone
else out, even readers. Reviewers work in parallel processes, each pressing a
key every few seconds, while a flag job or ``reviewer stats`` runs. SQLite in
WAL mode gives many concurrent writers (serialised by a busy timeout measured in
milliseconds) and readers that never block, and with ``synchronous=FULL`` a
committed decision survives ``kill -9`` and power loss. Label data is small
(one row per keypress), so statistics read it into Arrow and join it in DuckDB.

Labels are append-only events. Undo is a new event that names the event it
undoes; the current label of (sample, reviewer, category) is the latest event
that is neither an undo nor undone.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from reviewer.errors import ReviewerError, disk_full
from reviewer.store.damage import damaged_labels_error

VERDICTS = ("confirm", "reject", "unsure", "skip", "escalate")
EXPOSURE_KINDS = (
    "session_start",
    "session_end",
    "reveal",
    "revealed_seconds",
    "full_colour_seconds",
    "confirmed_harmful",
    "break_taken",
    "break_snoozed",
    "cap_reached",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    category TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN
        ('confirm', 'reject', 'unsure', 'skip', 'escalate', 'undo')),
    subtags TEXT,
    undoes INTEGER REFERENCES events(event_id),
    created_at TEXT NOT NULL,
    seconds_on_item REAL,
    reveal_depth INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    session_id TEXT,
    queue TEXT,
    group_id TEXT,
    propagated_from INTEGER REFERENCES events(event_id)
);
CREATE INDEX IF NOT EXISTS events_by_reviewer ON events(reviewer, event_id);
CREATE INDEX IF NOT EXISTS events_by_sample ON events(sample_id);
CREATE INDEX IF NOT EXISTS events_undone ON events(undoes) WHERE verdict = 'undo';
-- Without it the undo checks in the current-label query scan the table per row (quadratic).
CREATE INDEX IF NOT EXISTS events_by_undoes ON events(undoes);
CREATE TABLE IF NOT EXISTS exposure (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    session_id TEXT,
    kind TEXT NOT NULL,
    sample_id TEXT,
    depth INTEGER,
    seconds REAL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exposure_by_reviewer ON exposure(reviewer, created_at);
CREATE TABLE IF NOT EXISTS quarantine (
    sample_id TEXT PRIMARY KEY,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reason TEXT
);
-- Provenance of `reviewer match` runs: the list itself is never stored, only this.
CREATE TABLE IF NOT EXISTS list_runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_name TEXT NOT NULL,
    entries INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    params TEXT NOT NULL,
    matched INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS list_matches (
    run_id INTEGER NOT NULL REFERENCES list_runs(run_id),
    sample_id TEXT NOT NULL,
    entry_type TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, entry_type)
);
CREATE TABLE IF NOT EXISTS reviewers (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    reviewer TEXT NOT NULL,
    queue TEXT NOT NULL,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (reviewer, queue)
);
"""

_EVENTS_AFTER_SQL = """
SELECT sample_id, reviewer, category, verdict, subtags, created_at,
       seconds_on_item, reveal_depth, note, session_id, queue, event_id, undoes,
       group_id, propagated_from
FROM events WHERE event_id > ? ORDER BY event_id
"""

_STANDING = (
    "verdict != 'undo' AND event_id NOT IN"
    " (SELECT undoes FROM events WHERE verdict = 'undo' AND undoes IS NOT NULL)"
)
"""Events that stand: neither an undo nor undone (same SQL in SQLite and DuckDB)."""

_CURRENT_SQL = f"""
SELECT * EXCLUDE (rn, undoes, group_id, propagated_from) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY sample_id, reviewer, category ORDER BY event_id DESC) AS rn
    FROM events
    WHERE {_STANDING} AND propagated_from IS NULL
)
WHERE rn = 1
ORDER BY event_id
"""
"""DuckDB over the Arrow events: the latest standing event per (sample, reviewer,
category) that the reviewer made on the item itself. Decisions propagated to a
near-duplicate group are left out: nobody judged those items, so agreement and
design-based estimates never count them (exports show them as events). SQLite's
own window function took 8.5 s at 1M events (``benchmarks/bench_labels.py``); this
takes about 1 s once the events are in Arrow."""

_MAX_CHUNKS = 64
"""Incremental reads append a chunk each; past this many they are merged into one."""

LABEL_COLUMNS: dict[str, pa.DataType] = {
    "sample_id": pa.string(),
    "reviewer": pa.string(),
    "category": pa.string(),
    "verdict": pa.string(),
    "subtags": pa.string(),
    "created_at": pa.string(),
    "seconds_on_item": pa.float64(),
    "reveal_depth": pa.int64(),
    "note": pa.string(),
    "session_id": pa.string(),
    "queue": pa.string(),
    "event_id": pa.int64(),
}

EVENT_COLUMNS = {
    **LABEL_COLUMNS,
    "undoes": pa.int64(),
    "group_id": pa.string(),
    "propagated_from": pa.int64(),
}
"""Stored event columns: ``group_id`` / ``propagated_from`` mark a decision propagated to
a near-duplicate group (the group, and the deciding event)."""


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when the folder cannot be written.

    SQLite reads a WAL database through a ``-shm`` file it must be able to create;
    in a folder nobody can write, nobody can change the labels either, so the file
    is opened as immutable (no locks, no ``-shm``).
    """
    writable = os.access(path.parent, os.W_OK)
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("" if writable else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("SELECT count(*) FROM events").fetchone()  # fail now if it is not ours
    return conn


def _connect_immutable(path: Path) -> sqlite3.Connection:
    """A read-only connection that needs no lock file (nothing can be written anyway)."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def _refuse_emptied(path: Path) -> None:
    """A 0-byte label file held decisions once (SQLite writes its header at creation):
    reading it as "no labels" would hide their loss."""
    wal = path.with_name(path.name + "-wal")
    if path.exists() and path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size):
        raise ReviewerError(
            f"{path}: the label store is empty (0 bytes): its decisions are gone",
            "restore labels/labels.sqlite from a backup; to start with no labels, delete the"
            " empty file",
        )


def _can_read_while_full(path: Path, exc: sqlite3.Error) -> bool:
    """The disk is full, the file exists and no WAL holds decisions it lacks."""
    wal = path.with_name(path.name + "-wal")
    if not path.exists() or (wal.exists() and wal.stat().st_size > 0):
        return False
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 1 << 20 and isinstance(exc, sqlite3.OperationalError)


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _open_hint(exc: sqlite3.Error) -> str:
    """What to do when the label file will not open: damaged file, or a folder problem."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return (
            "the label file is damaged: restore labels/labels.sqlite from a backup"
            " (samples, scores and plans are not affected)"
        )
    return "check the audit folder is writable and not on a full disk"


def _migrate(conn: sqlite3.Connection) -> None:
    """Add columns that label files written by older versions lack (idempotent)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(quarantine)").fetchall()}
    if "reason" not in columns:
        conn.execute("ALTER TABLE quarantine ADD COLUMN reason TEXT")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)").fetchall()}
    if "group_id" not in columns:
        conn.execute("ALTER TABLE events ADD COLUMN group_id TEXT")
        conn.execute("ALTER TABLE events ADD COLUMN propagated_from INTEGER")


def _events_table(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """Arrow columns from SQLite rows in ``EVENT_COLUMNS`` order."""
    if not rows:  # pa.array() of a Python list imports pandas: 0.3 s of every command's start
        return pa.table({name: pa.nulls(0, typ) for name, typ in EVENT_COLUMNS.items()})
    columns: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [[] for _ in EVENT_COLUMNS]
    )
    return pa.table(
        {
            name: pa.array(col, type=typ)
            for (name, typ), col in zip(EVENT_COLUMNS.items(), columns, strict=True)
        }
    )


def utc_now() -> datetime:
    """The current time in UTC; the default clock of the label store."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Decision:
    """One reviewer decision on one sample, as written when the key is pressed."""

    sample_id: str
    reviewer: str
    category: str
    verdict: str
    subtags: tuple[str, ...] = ()
    seconds_on_item: float | None = None
    reveal_depth: int = 0
    note: str | None = None
    session_id: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class LabelEvent:
    """A stored decision event."""

    event_id: int
    sample_id: str
    reviewer: str
    category: str
    verdict: str
    created_at: str


class LabelStore:
    """Owns ``labels/labels.sqlite`` and every SQL statement on it.

    Args:
        path: The SQLite file; ``None`` keeps everything in memory (tests).
        clock: Returns the current time; tests pass a fake one.
        read_only: Open for reading only (an archived or shared audit): every
            write is refused with a clear error. A missing file reads as no labels.
    """

    def __init__(
        self, path: Path | None, clock: Callable[[], datetime] = utc_now, read_only: bool = False
    ) -> None:
        self.path = path
        self.clock = clock
        self.read_only = read_only
        self._events = _events_table([])
        self._events_last = 0
        self._current: tuple[pa.Table, pa.Table] | None = None
        self._lock = threading.RLock()
        self._refusal: ReviewerError | None = None
        target = ":memory:" if path is None else str(path)
        if path is not None:
            _refuse_emptied(path)
        try:
            if read_only and path is not None and path.exists():
                self._conn = _connect_read_only(path)
                return
            if path is not None and not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            if read_only:
                target = ":memory:"  # no label file yet: an empty store
            self._conn = sqlite3.connect(
                target, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_SCHEMA)
            _migrate(self._conn)
        except sqlite3.Error as exc:
            if path is not None and _can_read_while_full(path, exc):
                # 0 bytes free: SQLite cannot even create its -shm file, but with no
                # pending WAL the file alone is exact; reading works, saving is refused.
                self._conn = _connect_immutable(path)
                self._refusal = disk_full(str(path))
                return
            raise ReviewerError(
                f"{target}: cannot open the label store ({exc})", _open_hint(exc)
            ) from exc

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: durable on commit, nothing half-written on error.

        A full disk fails the INSERT or the COMMIT (SQLite rolls the transaction back
        itself then, so a ROLLBACK is sent only while one is still open); either way
        the caller gets one :class:`ReviewerError` and the connection stays usable
        for a retry once space is freed.
        """
        if self._refusal is not None:
            raise self._refusal
        if self.read_only:
            raise ReviewerError(
                f"{self.path}: the audit was opened read-only, nothing can be saved",
                "open a writable copy of the audit to review or change labels",
            )
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise ReviewerError(
                    f"label store is busy or unwritable ({exc})", "retry; check free disk space"
                ) from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise ReviewerError(
                    f"could not save to the label store ({exc})",
                    "free disk space and retry; nothing was saved",
                ) from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already done so."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for a read; a damaged page becomes one line naming the file."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                if self.path is None or not _is_damage(exc):
                    raise
                raise damaged_labels_error(self.path, str(exc)) from exc

    def check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: ``[]`` when the file is sound, else its findings.

        Asked before a review session opens, so nobody keeps adding decisions to a
        damaged file, and by ``reviewer doctor``.
        """
        with self._lock:
            try:
                rows = self._conn.execute("PRAGMA quick_check").fetchall()
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found

    def timestamp(self) -> str:
        """Now, as the UTC ISO string every row of this store carries."""
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    # ---- reviewers -------------------------------------------------------------

    def add_reviewer(self, name: str) -> None:
        """Register a reviewer (idempotent)."""
        if not name.strip():
            raise ReviewerError("reviewer name is empty", "pass --reviewer NAME")
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO reviewers(name, created_at) VALUES (?, ?)",
                (name, self.timestamp()),
            )

    def reviewers(self) -> list[str]:
        """Known reviewers, sorted."""
        with self._reading() as conn:
            rows = conn.execute("SELECT name FROM reviewers ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def require_reviewer(self, name: str) -> None:
        """Raise a user error naming the known reviewers when ``name`` is unknown."""
        known = self.reviewers()
        if name not in known:
            raise ReviewerError(
                f"unknown reviewer '{name}'",
                f"known reviewers: {', '.join(known) or 'none yet'}",
            )

    # ---- decisions -------------------------------------------------------------

    def record(self, decision: Decision) -> LabelEvent:
        """Append a decision; it is durable when this returns. Escalations quarantine at once."""
        with self._write() as conn:
            return self._insert_decision(conn, decision)

    def _insert_decision(self, conn: sqlite3.Connection, decision: Decision) -> LabelEvent:
        """Insert one decision (and its quarantine) inside the caller's transaction."""
        if decision.verdict not in VERDICTS:
            raise ReviewerError(
                f"unknown verdict '{decision.verdict}'", f"use one of {', '.join(VERDICTS)}"
            )
        now = self.timestamp()
        conn.execute(
            "INSERT OR IGNORE INTO reviewers(name, created_at) VALUES (?, ?)",
            (decision.reviewer, now),
        )
        cur = conn.execute(
            "INSERT INTO events(sample_id, reviewer, category, verdict, subtags, created_at,"
            " seconds_on_item, reveal_depth, note, session_id, queue)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                decision.sample_id,
                decision.reviewer,
                decision.category,
                decision.verdict,
                ",".join(decision.subtags) or None,
                now,
                decision.seconds_on_item,
                decision.reveal_depth,
                decision.note,
                decision.session_id,
                decision.queue,
            ),
        )
        if decision.verdict == "escalate":
            self._quarantine(conn, [decision.sample_id], decision.reviewer, "escalated")
        return LabelEvent(
            int(cur.lastrowid or 0), decision.sample_id, decision.reviewer, decision.category,
            decision.verdict, now,
        )

    def import_decisions(
        self, decisions: list[Decision], created_at: list[str | None]
    ) -> int:
        """Append decisions made elsewhere in one transaction: all of them or none.

        ``created_at`` carries each decision's original time (ISO 8601, UTC) where the
        source had one; the import time otherwise. Escalations quarantine, as in review.
        """
        now = self.timestamp()
        rows = [
            (d.sample_id, d.reviewer, d.category, d.verdict, ",".join(d.subtags) or None,
             when or now, d.seconds_on_item, d.reveal_depth, d.note, d.session_id, d.queue)
            for d, when in zip(decisions, created_at, strict=True)
        ]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO reviewers(name, created_at) VALUES (?, ?)",
                [(name, now) for name in sorted({d.reviewer for d in decisions})],
            )
            conn.executemany(
                "INSERT INTO events(sample_id, reviewer, category, verdict, subtags, created_at,"
                " seconds_on_item, reveal_depth, note, session_id, queue)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO quarantine(sample_id, reviewer, created_at, reason)"
                " VALUES (?, ?, ?, 'escalated')",
                [(d.sample_id, d.reviewer, now) for d in decisions if d.verdict == "escalate"],
            )
        return len(rows)

    def record_group(
        self, decision: Decision, members: Sequence[str], group_id: str
    ) -> tuple[LabelEvent, int]:
        """Record a decision and propagate it to the other members of its group, atomically.

        Each member gets its own event (same reviewer, category and verdict; no time on
        item, no reveal) with ``group_id`` and ``propagated_from`` = the deciding event,
        so exports show where it came from and statistics leave it out. An escalation
        quarantines every member.

        Returns:
            The deciding event and the number of propagated events.
        """
        others = [m for m in dict.fromkeys(members) if m != decision.sample_id]
        with self._write() as conn:
            event = self._insert_decision(conn, decision)
            conn.executemany(
                "INSERT INTO events(sample_id, reviewer, category, verdict, subtags, created_at,"
                " seconds_on_item, reveal_depth, session_id, queue, group_id, propagated_from)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?)",
                [
                    (m, decision.reviewer, decision.category, decision.verdict,
                     ",".join(decision.subtags) or None, event.created_at, decision.session_id,
                     decision.queue, group_id, event.event_id)
                    for m in others
                ],
            )
            if decision.verdict == "escalate":
                self._quarantine(conn, others, decision.reviewer, f"group:{group_id}")
        return event, len(others)

    def quarantine(self, sample_ids: Sequence[str], by: str, reason: str) -> int:
        """Quarantine samples at once for everyone (e.g. the exact copies of an escalated
        item); returns how many were not quarantined before."""
        with self._write() as conn:
            return self._quarantine(conn, sample_ids, by, reason)

    def _quarantine(
        self, conn: sqlite3.Connection, sample_ids: Sequence[str], by: str, reason: str
    ) -> int:
        before = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        now = self.timestamp()
        conn.executemany(
            "INSERT OR IGNORE INTO quarantine(sample_id, reviewer, created_at, reason)"
            " VALUES (?, ?, ?, ?)",
            [(sid, by, now, reason) for sid in sample_ids],
        )
        return int(conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] - before)

    def undo_last(self, reviewer: str, session_id: str | None = None) -> LabelEvent | None:
        """Undo the reviewer's latest standing decision (optionally within one session).

        Escalations are not undone: the quarantine is final, by design, so an item
        that was possibly illegal is never shown again.

        Returns:
            The event that was undone, or ``None`` when there is nothing to undo.
        """
        query = (
            "SELECT event_id, sample_id, reviewer, category, verdict, created_at FROM events e"
            " WHERE reviewer = ? AND verdict NOT IN ('undo', 'escalate')"
            " AND propagated_from IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM events u WHERE u.verdict = 'undo'"
            "                 AND u.undoes = e.event_id)"
        )
        params: list[object] = [reviewer]
        if session_id is not None:
            query += " AND session_id = ?"
            params.append(session_id)
        query += " ORDER BY event_id DESC LIMIT 1"
        with self._write() as conn:
            row = conn.execute(query, params).fetchone()
            if row is None:
                return None
            target = LabelEvent(*row)
            conn.execute(
                "INSERT INTO events(sample_id, reviewer, category, verdict, undoes, created_at,"
                " session_id) VALUES (?, ?, ?, 'undo', ?, ?, ?)",
                (target.sample_id, reviewer, target.category, target.event_id, self.timestamp(),
                 session_id),
            )
            # Undoing a group decision undoes what it propagated, in the same transaction.
            conn.execute(
                "INSERT INTO events(sample_id, reviewer, category, verdict, undoes, created_at,"
                " session_id) SELECT sample_id, reviewer, category, 'undo', event_id, ?, ?"
                " FROM events WHERE propagated_from = ?",
                (self.timestamp(), session_id, target.event_id),
            )
        return target

    def current_labels(self) -> pa.Table:
        """Current label per (sample, reviewer, category), as Arrow, in event order.

        Computed in DuckDB from the cached events and itself cached until the
        events change, so repeated statistics (the stats screen, a notebook) cost
        nothing while nobody decides.
        """
        events = self._cached_events()
        with self._lock:
            if self._current is not None and self._current[0] is events:
                return self._current[1]
        import duckdb

        with duckdb.connect() as conn:
            conn.register("events", events)
            current = conn.sql(_CURRENT_SQL).to_arrow_table()
        current = current.cast(pa.schema(LABEL_COLUMNS))
        with self._lock:
            self._current = (events, current)
        return current

    def events(self) -> pa.Table:
        """Every decision event, undo events included (``verdict='undo'``), propagated
        ones marked by ``group_id`` and ``propagated_from``."""
        return self._cached_events().drop_columns(["undoes"])

    def propagated_count(self) -> int:
        """Standing decisions propagated to near-duplicate group members."""
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM events WHERE propagated_from IS NOT NULL AND {_STANDING}"
            ).fetchone()
        return int(row[0]) if row else 0

    def labelled_ids(self, reviewer: str) -> set[str]:
        """Samples this reviewer has a standing decision on, in any category.

        Asked by the review app at start; answered by SQLite (indexed on reviewer)
        so the app does not hold every event of the audit in memory. A standing
        decision exists exactly when some event is neither an undo nor undone.
        """
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT sample_id FROM events WHERE reviewer = ? AND {_STANDING}",
                (reviewer,),
            ).fetchall()
        return {r[0] for r in rows}

    def _cached_events(self) -> pa.Table:
        """All events as Arrow, reading only those added since the last call.

        Events are append-only and SQLite hands out ``event_id`` in commit order
        (one writer at a time), so rows after the largest id seen are exactly the
        new ones, whichever process wrote them. Count and rows are read in one
        snapshot; if the counts disagree (events deleted by hand with sqlite3)
        everything is read again.
        """
        with self._reading():
            cached, last = self._events, self._events_last
            self._conn.execute("BEGIN")
            try:
                count, newest = self._conn.execute(
                    "SELECT count(*), coalesce(max(event_id), 0) FROM events"
                ).fetchone()
                if cached.num_rows > count or last > newest:
                    cached, last = _events_table([]), 0
                if newest > last:
                    rows = self._conn.execute(_EVENTS_AFTER_SQL, (last,)).fetchall()
                    cached = pa.concat_tables([cached, _events_table(rows)])
                    if cached.column(0).num_chunks > _MAX_CHUNKS:
                        cached = cached.combine_chunks()
                if cached.num_rows != count:
                    rows = self._conn.execute(_EVENTS_AFTER_SQL, (0,)).fetchall()
                    cached = _events_table(rows)
            finally:
                self._conn.execute("COMMIT")
            self._events, self._events_last = cached, int(newest)
            return cached

    # ---- quarantine ------------------------------------------------------------

    def quarantined_ids(self) -> set[str]:
        """Samples escalated by anyone or matched by a list: never shown again."""
        with self._reading() as conn:
            rows = conn.execute("SELECT sample_id FROM quarantine").fetchall()
        return {r[0] for r in rows}

    def quarantine_table(self) -> pa.Table:
        """Quarantined samples with their reason: ``escalated`` or ``list:NAME``."""
        rows = self._rows_if_present(
            "SELECT sample_id, coalesce(reason, 'escalated'), created_at FROM quarantine"
            " ORDER BY sample_id",
            "SELECT sample_id, 'escalated', created_at FROM quarantine ORDER BY sample_id",
        )
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[], [], []]
        return pa.table(
            {
                name: pa.array(list(col), pa.string())
                for name, col in zip(("sample_id", "reason", "created_at"), cols, strict=True)
            }
        )

    def quarantine_list_matches(
        self, list_name: str, entries: int, file_sha256: str, params: str, matches: pa.Table
    ) -> tuple[int, int]:
        """Record a list match and quarantine every matched sample, in one transaction.

        Args:
            list_name: The list's name; the quarantine reason is ``list:<name>``.
            entries: Entries the list held (after removing duplicates).
            file_sha256: Hash of the list file, so a run names exactly which list it used.
            params: JSON of the match parameters (PDQ distance, quality threshold).
            matches: ``sample_id, entry_type`` rows (a sample may match several types).

        Returns:
            ``(run_id, samples newly quarantined)``. Nothing is written on any error.
        """
        reason = f"list:{list_name}"
        pairs = list(
            zip(matches.column("sample_id").to_pylist(),
                matches.column("entry_type").to_pylist(), strict=True)
        )
        now = self.timestamp()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO list_runs(list_name, entries, file_sha256, params, matched,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (list_name, entries, file_sha256, params, len({p[0] for p in pairs}), now),
            )
            run_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT OR IGNORE INTO list_matches(run_id, sample_id, entry_type)"
                " VALUES (?, ?, ?)",
                [(run_id, sid, kind) for sid, kind in pairs],
            )
            added = self._quarantine(conn, sorted({p[0] for p in pairs}), reason, reason)
        return run_id, added

    def list_runs(self) -> list[dict[str, Any]]:
        """Provenance of every ``reviewer match`` run, oldest first."""
        names = ["run_id", "list_name", "entries", "file_sha256", "params", "matched",
                 "created_at"]
        rows = self._rows_if_present(
            f"SELECT {', '.join(names)} FROM list_runs ORDER BY run_id", None
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _rows_if_present(self, sql: str, fallback: str | None) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; on a read-only label file from an older version, which lacks
        the table or column, rows of ``fallback`` (or none)."""
        with self._reading() as conn:
            try:
                return conn.execute(sql).fetchall()
            except sqlite3.OperationalError:
                if fallback is None:
                    return []
                return conn.execute(fallback).fetchall()

    # ---- exposure --------------------------------------------------------------

    def log_exposure(
        self,
        reviewer: str,
        kind: str,
        session_id: str | None = None,
        sample_id: str | None = None,
        depth: int | None = None,
        seconds: float | None = None,
        at: str | None = None,
    ) -> None:
        """Append one exposure event (a reveal, seconds revealed, a break, …).

        ``at`` (a :meth:`timestamp`) dates an event written later than it happened,
        e.g. one kept in memory while the disk was full.
        """
        if kind not in EXPOSURE_KINDS:
            raise ValueError(f"unknown exposure kind {kind!r}")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO exposure(reviewer, session_id, kind, sample_id, depth, seconds,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (reviewer, session_id, kind, sample_id, depth, seconds, at or self.timestamp()),
            )

    def exposure(self, reviewer: str | None = None, since: str | None = None) -> pa.Table:
        """Exposure events, optionally for one reviewer and since an ISO timestamp."""
        sql = (
            "SELECT reviewer, session_id, kind, sample_id, depth, seconds, created_at"
            " FROM exposure WHERE 1=1"
        )
        params: list[object] = []
        if reviewer is not None:
            sql += " AND reviewer = ?"
            params.append(reviewer)
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(since)
        with self._reading() as conn:
            rows = conn.execute(sql + " ORDER BY id", params).fetchall()
        names = ["reviewer", "session_id", "kind", "sample_id", "depth", "seconds", "created_at"]
        types = [pa.string(), pa.string(), pa.string(), pa.string(), pa.int64(), pa.float64(),
                 pa.string()]
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        return pa.table(
            {n: pa.array(list(c), type=t) for n, t, c in zip(names, types, cols, strict=True)}
        )

    # ---- positions ---------------------------------------------------------------

    def save_position(self, reviewer: str, queue: str, position: int) -> None:
        """Remember where the reviewer is in a queue, to resume there."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO positions(reviewer, queue, position, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(reviewer, queue) DO UPDATE SET position = excluded.position,"
                " updated_at = excluded.updated_at",
                (reviewer, queue, position, self.timestamp()),
            )

    def position(self, reviewer: str, queue: str) -> int:
        """The saved position in a queue, 0 when none."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT position FROM positions WHERE reviewer = ? AND queue = ?", (reviewer, queue)
            ).fetchone()
        return int(row[0]) if row else 0
