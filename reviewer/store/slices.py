"""Whole-audit flag aggregations in slices of row ids, so their memory does not grow with rows.

``plan``, ``sample`` and ``stats`` need, for every sample, the set of flags it
raised: a GROUP BY of the flagged score rows by sample id. Over a whole audit
that group holds every flagged sample at once (12M of 100M rows in the scale
benchmark), and DuckDB caches every block a scan reads, so the commands grew until
DuckDB's memory limit: peak memory rose by 1.2-1.7x from 20M to 100M rows. Here the
same statement runs once per slice of ``samples`` row ids, ``[start, stop)`` of
:data:`ROWS_PER_SLICE` rows, over only the score parts that scored rows of that slice (a
text flagger's parts name row ranges; :meth:`reviewer.store.runs.RunDir.parts_in_span`), and
the caller merges the slices' results (counts add; the smallest hashes of each
stratum are the smallest of each slice's smallest). Memory is one slice's worth
whatever the audit's size, and the score files are still read about once.

Why slicing by row id is exact: each statement joins ``samples s`` filtered to the
slice with its flag groups, so a flag row of a sample outside the slice (from a
part that straddles the slice's edge, or from a run over a snapshot, whose parts
are all read) forms a group that matches no sample and drops out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.store.connection import Progress, fetch_with_progress
from reviewer.store.core import Database
from reviewer.store.scores import FlagViews

_T = TypeVar("_T")

ROWS_PER_SLICE = 4_000_000
"""Samples per slice: about 0.5M flagged samples at LAION's few per cent, a group of
~100 MB; small enough that DuckDB never spills, large enough that per-statement costs
(views, planning) are noise."""


def sample_slices(conn: duckdb.DuckDBPyConnection, rows: int) -> list[tuple[int, int]]:
    """``[start, stop)`` row-id slices of ``rows`` rows covering ``samples`` (one when empty).

    ``samples`` is only appended to, so its row ids run from 0 to its last row.
    """
    (high,) = conn.execute("SELECT max(rowid) FROM samples").fetchall()[0]
    end = 0 if high is None else int(high) + 1
    return [(lo, min(lo + rows, end)) for lo in range(0, end, rows)] or [(0, 0)]


def over_slices(
    db: Database,
    views: FlagViews,
    settings: Settings,
    statement: Callable[[str], str],
    params: Sequence[Any] | None = None,
    progress: Progress | None = None,
    prepare: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> list[tuple[Any, ...]]:
    """Run ``statement(where)`` once per slice and return all slices' rows, in order.

    ``where`` is the SQL condition keeping ``samples s`` rows of the slice (see
    :func:`_each_slice` for the connection each runs on). ``progress`` gets percent of
    the whole (each slice's own DuckDB progress included).
    """

    def run(conn: duckdb.DuckDBPyConnection, where: str, index: int, count: int) -> list[Any]:
        sliced = None if progress is None else _scaled(progress, index, count)
        return fetch_with_progress(conn, statement(where), params, sliced)

    return [row for rows in _each_slice(db, views, settings, run, prepare) for row in rows]


def arrow_over_slices(
    db: Database,
    views: FlagViews,
    settings: Settings,
    statement: Callable[[str], str],
    prepare: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
    within: str | None = None,
) -> pa.Table:
    """:func:`over_slices` for many rows: the slices' results as one Arrow table.

    ``within``: a relation ``prepare`` registers, whose samples' scores alone are read
    (:meth:`~reviewer.store.scores.FlagViews.install`).
    """
    return pa.concat_tables(_each_slice(
        db, views, settings,
        lambda conn, where, *_: conn.sql(statement(where)).to_arrow_table(), prepare, within,
    ))


def _each_slice(
    db: Database,
    views: FlagViews,
    settings: Settings,
    run: Callable[[duckdb.DuckDBPyConnection, str, int, int], _T],
    prepare: Callable[[duckdb.DuckDBPyConnection], object] | None,
    within: str | None = None,
) -> list[_T]:
    """``run(conn, where, index, count)`` for each slice, on a connection ready for it.

    Each slice gets its own connection, run through ``prepare`` (to register a table)
    and given the ``flags`` view over that slice's score parts. Its own connection
    because DuckDB keeps every block it reads cached until the memory limit (after the
    ids of 100M samples, 460 MB): closing the connection frees the cache when nothing
    else in the process holds the audit open, as in a command. ``run`` is called inside
    the connection's ``with``, so a DuckDB error (a damaged file) is reported as one.
    """
    with db.connect() as conn:
        spans = sample_slices(conn, ROWS_PER_SLICE)
    out = []
    for index, (lo, hi) in enumerate(spans):
        with db.connect() as conn:
            if prepare is not None:
                prepare(conn)
            views.install(conn, settings, within=within, span=(lo, hi))
            out.append(run(conn, f"s.rowid >= {lo} AND s.rowid < {hi}", index, len(spans)))
    return out


def _scaled(progress: Progress, index: int, count: int) -> Progress:
    """Slice ``index``'s percent reported as percent of all ``count`` slices."""

    def report(done: int, total: int | None) -> None:
        share = done / total if total else 0.0
        progress(int((index + share) * 100 / count), 100)

    return report
