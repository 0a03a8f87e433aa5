"""Runs ``reviewer export`` inside DuckDB: ``COPY (SELECT …) TO file`` streams any size.

Nothing is fetched into Python: DuckDB reads the samples, joins the (small)
label aggregates and the flags, and writes Parquet, CSV or JSON lines itself,
so memory stays flat however many rows an audit holds. The SQL text lives in
:mod:`reviewer.store.export_sql`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb

from reviewer.errors import ReviewerError
from reviewer.flaggers.base import FLAG_NAMES
from reviewer.store import export_sql as q
from reviewer.store.core import StoreBase
from reviewer.store.samples import column_name
from reviewer.store.scores import ScoreQueries

FORMATS = ("parquet", "csv", "jsonl")
_COPY_OPTIONS = {
    "parquet": "FORMAT parquet",
    "csv": "FORMAT csv, HEADER true",
    "jsonl": "FORMAT json",
}

Progress = Callable[[int, int | None], None]


@dataclass
class ExportCatalogue:
    """What filters may name: datasets, queues, flaggers and flags that ran, categories."""

    datasets: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)
    """Flag names by flagger, from the latest complete run of each."""
    label_categories: list[str] = field(default_factory=list)
    """Categories that occur in the labels."""

    def flag_names(self) -> set[str]:
        """Every flagger and flag name a ``--flagged-by`` filter may use."""
        return set(self.flags) | {f for names in self.flags.values() for f in names}


@dataclass
class ExportCounts:
    """What an export wrote."""

    rows: int
    columns: list[tuple[str, str]]
    """(name, DuckDB type) of every column, in order."""
    withheld_escalated: int
    """Escalated samples left out (they appear only in removal lists)."""


class ExportQueries(StoreBase):
    """Methods that stream samples, flags and labels out through DuckDB ``COPY``."""

    def export_catalogue(self, settings: Any) -> ExportCatalogue:
        """Datasets, queues and flags of the audit, for validating export filters."""
        with self.connect() as conn:
            flaggers = self._flag_views(conn, settings)
            datasets = conn.execute(
                "SELECT DISTINCT dataset FROM samples WHERE dataset IS NOT NULL ORDER BY 1"
            ).fetchall()
            queues = conn.execute("SELECT name FROM plans ORDER BY name").fetchall()
        by_flagger = {name: list(FLAG_NAMES.get(name, ())) for name in flaggers}
        categories = sorted({str(c) for c in self.labels.current_labels()["category"].to_pylist()})
        return ExportCatalogue(
            datasets=[str(r[0]) for r in datasets],
            queues=[str(r[0]) for r in queues],
            flags=by_flagger,
            label_categories=categories,
        )

    def run_export(
        self,
        spec: q.ExportSpec,
        settings: Any,
        target: Path,
        fmt: str,
        progress: Progress | None = None,
    ) -> ExportCounts:
        """Write the export described by ``spec`` to ``target`` (the caller renames it)."""
        with self.connect() as conn:
            self.register_labels(conn)
            flaggers = self._flag_views(conn, settings)
            conn.execute(q.consensus_view(spec.consensus))
            if spec.disagreements:
                conn.execute(q.disagreement_view(spec.category))
            flags = [f for name in flaggers for f in FLAG_NAMES.get(name, ())]
            select = self._export_select(conn, spec, flags)
            described = conn.execute(f"DESCRIBE {select}").fetchall()
            columns = [(str(r[0]), str(r[1])) for r in described]
            sql = f"COPY ({select}) TO {q.lit(str(target))} ({_COPY_OPTIONS[fmt]})"
            rows = _copy_with_progress(conn, sql, progress)
            withheld = 0
            if spec.mode != "removal":
                row = conn.execute(
                    "SELECT count(DISTINCT sample_id) FROM samples"
                    " WHERE sample_id IN (SELECT sample_id FROM quarantine)"
                ).fetchone()
                withheld = int(row[0]) if row else 0
        return ExportCounts(rows=rows, columns=columns, withheld_escalated=withheld)

    def _flag_views(self, conn: duckdb.DuckDBPyConnection, settings: Any) -> list[str]:
        """The flags contract's ``flags`` view (the Store mixes ScoreQueries in)."""
        scores = cast(ScoreQueries, self)
        return scores.install_flag_views(conn, settings)

    def _export_select(
        self, conn: duckdb.DuckDBPyConnection, spec: q.ExportSpec, flag_names: list[str]
    ) -> str:
        if spec.mode == "removal":
            return q.removal_select(spec)
        sample_cols = _sample_columns(conn)
        if spec.mode == "long":
            return q.long_select(spec, [name for name, _ in sample_cols])
        flags = [(name, column_name(name)) for name in flag_names]
        conn.execute(q.label_wide_view(spec.categories))
        if flags:
            conn.execute(q.flag_wide_view(flags))
        computed = set(q.flag_columns(flags)) | set(q.label_columns(spec.categories))
        renamed = [(name, f"src_{name}" if name in computed else name) for name, _ in sample_cols]
        return q.wide_select(spec, q.OutputColumns(sample=renamed, flags=flags))


def _sample_columns(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Exportable ``samples`` columns: everything but binary ones (never image bytes)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'samples' ORDER BY ordinal_position"
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows if str(t).upper() not in ("BLOB", "BYTEA")]


def _copy_with_progress(
    conn: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None
) -> int:
    """Run a ``COPY`` and report DuckDB's own progress (percent) while it runs."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            row = conn.execute(sql).fetchone()
            result["rows"] = int(row[0]) if row else 0
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=work, name="reviewer-export", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.25)
        if progress is not None and thread.is_alive():
            percent = conn.query_progress()
            if percent >= 0:
                progress(int(percent), 100)
    error = result.get("error")
    if isinstance(error, duckdb.IOException):
        raise ReviewerError(
            f"cannot write the export ({str(error).splitlines()[0]})",
            "check the folder is writable and has free space",
        ) from error
    if error is not None:
        raise error
    if progress is not None:
        progress(100, 100)
    return int(result.get("rows", 0))
