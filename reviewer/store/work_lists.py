"""Work lists that name rows instead of copying them: ``rowid`` ranges of ``samples``.

A text flagger (keyword, NSFW field) scores as fast as DuckDB reads, so copying
its inputs to a snapshot first would cost as much as the scoring itself (at
LAION-2B-en size a ~150 GB copy of captions and URLs). Its run instead records
*which* rows it scores as half-open ``[start, stop)`` ranges of DuckDB's
``rowid`` and reads each part's rows straight from ``samples``
(``WHERE rowid >= a AND rowid < b`` is pushed into the scan, so a part costs
what it reads) through one read-only connection that is given up whenever a
writer waits (:class:`~reviewer.store.connection.HeldReader`).

Why ``rowid`` identifies rows for the life of a run: ``samples`` is only ever
appended to (ingest publishes each file with one ``INSERT``), and DuckDB gives
appended rows new row ids without moving old ones. Rows ingested after the work
list was made lie past its ranges and are not part of the run, exactly as with
a snapshot. Should rows ever vanish, a part reads fewer rows than its ranges
promise and the run stops with an error instead of recording partial scores.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from reviewer.store.connection import HeldReader
from reviewer.store.core import Database
from reviewer.store.np_arrow import int_table, int_values
from reviewer.store.runs import RANGES_SCHEMA
from reviewer.store.sql import lit


def ranges_of(rowids: np.ndarray) -> pa.Table:
    """Merge sorted row ids into maximal ``[start, stop)`` ranges."""
    if len(rowids) == 0:
        return _ranges_table([])
    breaks = np.flatnonzero(np.diff(rowids) != 1) + 1
    starts = rowids[np.concatenate(([0], breaks))]
    stops = rowids[np.concatenate((breaks - 1, [len(rowids) - 1]))] + 1
    return int_table({"start": starts, "stop": stops}, RANGES_SCHEMA)


def check_sample_columns(conn: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    """Refuse columns ``samples`` lacks (a user error, e.g. clip without ``image_ref``)."""
    known = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'samples'"
        ).fetchall()
    }
    missing = [c for c in columns if c not in known]
    if missing:
        raise ReviewerError(f"samples have no column(s) {missing}", "ingest data that carries them")


def check_datasets(conn: duckdb.DuckDBPyConnection, datasets: list[str]) -> None:
    """Refuse dataset names the audit does not hold, listing those it does."""
    known = {r[0] for r in conn.execute("SELECT DISTINCT dataset FROM samples").fetchall()}
    unknown = sorted(set(datasets) - known)
    if unknown:
        raise ReviewerError(
            f"unknown dataset(s) {', '.join(unknown)}",
            f"datasets in this audit: {', '.join(sorted(str(k) for k in known)) or 'none'}",
        )


class WorkListQueries:
    """What a flag run scores (``store.work_lists``): row ranges and the reads that serve
    them, or a snapshot of a model flagger's inputs.

    Args:
        db: The audit database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def check_sample_columns(self, columns: list[str]) -> None:
        """Refuse columns ``samples`` lacks before a run starts."""
        with self.db.connect() as conn:
            check_sample_columns(conn, columns)

    def snapshot(
        self,
        columns: list[str],
        dest: Path,
        datasets: list[str] | None = None,
        sample: int | None = None,
        seed: int = 0,
    ) -> int:
        """Copy the given sample columns to a parquet file in one short read; returns rows.

        Args:
            columns: Sample columns the flagger needs.
            dest: The run's ``todo.parquet``.
            datasets: Only samples of these datasets.
            sample: A simple random sample of this many samples, drawn reproducibly by
                ordering on ``hash(sample_id, seed)``.
            seed: Seed of the sample.

        Unknown columns or datasets are user errors (e.g. clip without ``image_ref``).
        """
        with self.db.connect() as conn:
            check_sample_columns(conn, columns)
            where = ""
            if datasets:
                check_datasets(conn, datasets)
                where = f"WHERE dataset IN ({', '.join(lit(d) for d in datasets)})"
            query = f"SELECT {_cols(columns)} FROM samples {where}"
            if sample is not None:
                query += f" ORDER BY hash(sample_id, {int(seed)}), sample_id LIMIT {int(sample)}"
            tmp = dest.with_name(f".{dest.name}.tmp")
            conn.execute(
                f"COPY ({query}) TO {lit(str(tmp))} (FORMAT parquet, ROW_GROUP_SIZE 122880)"
            )
        tmp.replace(dest)
        return int(pq.ParquetFile(dest).metadata.num_rows)

    def ranges(
        self, datasets: list[str] | None = None, sample: int | None = None, seed: int = 0
    ) -> pa.Table:
        """The rows a run scores as sorted ``[start, stop)`` rowid ranges.

        The selection is the one :meth:`snapshot` makes (``datasets``; a
        seeded simple random ``sample`` ordered on ``hash(sample_id, seed)``).
        """
        with self.db.connect() as conn:
            where = ""
            if datasets:
                check_datasets(conn, datasets)
                where = f"WHERE dataset IN ({', '.join(lit(d) for d in datasets)})"
            if sample is not None:
                rowids = conn.sql(
                    f"SELECT rowid FROM samples {where} "
                    f"ORDER BY hash(sample_id, {int(seed)}), sample_id LIMIT {int(sample)}"
                ).fetchnumpy()["rowid"]
                return ranges_of(np.sort(np.asarray(rowids, dtype=np.int64)))
            if not where:
                # The whole table: without deletions its row ids are one dense range,
                # known without a scan (DuckDB keeps count, min and max of rowid).
                n, low, high = conn.execute(
                    "SELECT count(*), min(rowid), max(rowid) FROM samples"
                ).fetchall()[0]
                if not n or high - low + 1 == n:
                    return _ranges_table([(int(low), int(high) + 1)] if n else [])
            # Each ingested file is one INSERT, so its rows are one range of row ids;
            # the islands query below is only needed if that ever stops being true.
            rows = conn.execute(
                "SELECT min(rowid), max(rowid) + 1, count(*) FROM samples "
                f"{where} GROUP BY source_file ORDER BY 1"
            ).fetchall()
            ranges = [(int(a), int(b)) for a, b, n in rows if n]
            dense = all(b - a == n for a, b, n in rows)
            overlapping = any(ranges[i][1] > ranges[i + 1][0] for i in range(len(ranges) - 1))
            if not dense or overlapping:
                ranges = [
                    (int(a), int(b))
                    for a, b in conn.execute(
                        "SELECT min(rowid), max(rowid) + 1 FROM (SELECT rowid, rowid - "
                        f"row_number() OVER (ORDER BY rowid) AS island FROM samples {where}) "
                        "GROUP BY island ORDER BY 1"
                    ).fetchall()
                ]
        return _ranges_table(ranges)

    def reader(self) -> HeldReader:
        """The connection a run's parts are read through (:meth:`read_rows`)."""
        return self.db.held_reader()

    def read_rows(
        self, columns: list[str], ranges: pa.Table, reader: HeldReader | None = None
    ) -> pa.Table:
        """The given sample columns of the rows in ``ranges`` (order not guaranteed).

        Through ``reader`` (one connection for all of a run's parts), else one short
        read-only connection.
        """
        if reader is None:
            with self.db.connect() as conn:
                return self._read(conn, columns, ranges)
        return reader.use(lambda conn: self._read(conn, columns, ranges))

    def _read(
        self, conn: duckdb.DuckDBPyConnection, columns: list[str], ranges: pa.Table
    ) -> pa.Table:
        """One part's rows: a rowid span pushed into the scan, plus the ids when scattered."""
        if ranges.num_rows == 0:
            return conn.sql(f"SELECT {_cols(columns)} FROM samples LIMIT 0").to_arrow_table()
        starts = int_values(ranges.column("start"))
        stops = int_values(ranges.column("stop"))
        span = f"rowid >= {int(starts[0])} AND rowid < {int(stops[-1])}"
        if ranges.num_rows == 1:
            return conn.sql(
                f"SELECT {_cols(columns)} FROM samples WHERE {span}"
            ).to_arrow_table()
        # Many ranges (a random sample): the span bounds the scan, the ids pick rows.
        pairs = zip(starts, stops, strict=True)
        rowids = np.concatenate([np.arange(a, b) for a, b in pairs])
        ids = int_table({"r": rowids}, pa.schema([("r", pa.int64())]))
        conn.register("_rowids", ids)
        try:
            return conn.sql(
                f"SELECT {_cols(columns)} FROM samples WHERE {span} "
                "AND rowid IN (SELECT r FROM _rowids)"
            ).to_arrow_table()
        finally:
            conn.unregister("_rowids")


def _ranges_table(ranges: list[tuple[int, int]]) -> pa.Table:
    starts, stops = [a for a, _ in ranges], [b for _, b in ranges]
    return int_table({"start": np.array(starts), "stop": np.array(stops)}, RANGES_SCHEMA)


def _cols(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)
