"""``sample_id`` to ``rowid`` through sorted key files, so showing a page costs what it holds.

Why: sample ids are unsorted strings (LAION's are digit strings), so DuckDB's zone maps
skip nothing and ``WHERE sample_id IN (…)`` reads the id of every sample: at 100M rows
the review app's first page took ~20 s and read ~1 GB. An index inside DuckDB (ART) would
need the write lock to build and several GB of memory at that size. Instead the ids are
kept, once, in parquet key files under ``cache/sample_keys/``: one file per chunk of
``CHUNK_ROWS`` row ids, ``(sample_id, r)`` sorted by ``sample_id`` in small row groups,
so a parquet reader's min/max statistics skip every row group but those that may hold an
asked id. The rows themselves are then read by ``rowid``, which DuckDB pushes into the
table scan (:mod:`reviewer.store.work_lists` explains why row ids stay put: ``samples``
is only appended to).

The files are a cache, never the truth. A chunk ``[start, stop)`` that is full never
changes; the last, partial one is written again when rows are appended. Every row read
through a key is checked against the id that was asked for, and an id the keys do not
resolve (ingested after the files were written, or absent) is looked up by the scan, so
a stale or missing file costs time, never a wrong or a lost item. Files are written with a
read-only connection and a rename, so building them never locks reviewers out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from reviewer.store.core import Database
from reviewer.store.sql import lit

CHUNK_ROWS = 1 << 22
"""Row ids per key file: ~4M ids sort in about a second and are ~40 MB of parquet."""
ROW_GROUP_ROWS = 4_096
"""Small row groups: a lookup reads one per asked id (~40 KB), whatever the audit's size."""

_FILE = re.compile(r"^keys-(\d{12})-(\d{12})\.parquet$")

Progress = Callable[[int, int | None], None]


class SampleKeys:
    """Key files of one audit (``store.sample_keys``): build them, resolve ids to row ids.

    Args:
        db: The audit database.
        folder: Where the key files live (``None``: an in-memory store, no files).
    """

    def __init__(self, db: Database, folder: Path | None) -> None:
        self.db = db
        self.folder = folder

    def files(self) -> list[tuple[int, int, Path]]:
        """``(start, stop, path)`` of the key files present, by start (widest first)."""
        if self.folder is None or not self.folder.is_dir():
            return []
        found = [
            (int(m.group(1)), int(m.group(2)), self.folder / m.group(0))
            for name in os.listdir(self.folder)
            if (m := _FILE.match(name))
        ]
        return sorted(found, key=lambda f: (f[0], -f[1]))

    def build(self, progress: Progress | None = None) -> int:
        """Write the key files the audit's rows lack; returns how many were written.

        Full chunks written before are kept; the last chunk is written again when rows
        were appended to it. Cheap when nothing was ingested since (one ``count``).
        """
        if self.folder is None:
            return 0
        high = self._high()
        have = {(a, b) for a, b, _ in self.files()}
        chunks = [(a, min(a + CHUNK_ROWS, high)) for a in range(0, high, CHUNK_ROWS)]
        todo = [c for c in chunks if c not in have]
        self.folder.mkdir(parents=True, exist_ok=True)
        for done, (start, stop) in enumerate(todo):
            if progress is not None:
                progress(done, len(todo))
            self._write(start, stop)
        for start, stop, path in self.files():  # a last chunk that has grown since
            if (start, stop) not in chunks:
                path.unlink(missing_ok=True)
        if progress is not None and todo:
            progress(len(todo), len(todo))
        return len(todo)

    def rowids(self, sample_ids: Sequence[str]) -> list[tuple[str, int]]:
        """``(sample_id, rowid)`` of the given ids the key files hold (a duplicated id once
        per row); an id they do not hold may still be in ``samples``."""
        newest = self._newest_files()
        if not sample_ids or not newest:
            return []
        listed = ", ".join(lit(str(p)) for p in newest)
        marks = ", ".join("?" for _ in sample_ids)
        # Constants, not a joined table: DuckDB checks an IN list against each row
        # group's min/max, so only the row groups that may hold an id are read.
        with self.db.connect() as conn:
            try:
                rows = conn.execute(
                    f"SELECT sample_id, r FROM read_parquet([{listed}])"
                    f" WHERE sample_id IN ({marks})",
                    list(sample_ids),
                ).fetchall()
            except duckdb.Error:  # a file replaced meanwhile, or damaged: the scan serves
                return []
        return [(str(sid), int(r)) for sid, r in rows]

    def _newest_files(self) -> list[Path]:
        """One file per chunk start, the widest (a grown last chunk's older file may linger
        while another process rewrites it)."""
        seen: set[int] = set()
        out = []
        for start, _, path in self.files():
            if start not in seen:
                seen.add(start)
                out.append(path)
        return out

    def _high(self) -> int:
        """One past the largest row id of ``samples`` (0 when empty)."""
        with self.db.connect() as conn:
            row = conn.execute("SELECT max(rowid) FROM samples").fetchone()
        return 0 if row is None or row[0] is None else int(row[0]) + 1

    def _write(self, start: int, stop: int) -> None:
        assert self.folder is not None
        final = self.folder / f"keys-{start:012d}-{stop:012d}.parquet"
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        with self.db.connect() as conn:
            conn.execute(
                f"COPY (SELECT sample_id, rowid AS r FROM samples WHERE rowid >= {start}"
                f" AND rowid < {stop} ORDER BY sample_id) TO {lit(str(tmp))}"
                f" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
            )
        os.replace(tmp, final)
