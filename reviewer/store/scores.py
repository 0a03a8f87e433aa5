"""SQL on flagger output: score files (parquet, written by flag runs) and derived flags.

Flag jobs never hold the DuckDB lock while scoring: they write parquet parts under
``scores/<flagger>/<run_id>/`` (see :mod:`reviewer.store.runs`) and these
queries read them. Only the newest *complete* run of each flagger counts; flags
come from its score columns and the thresholds in ``reviewer.toml``
(:mod:`reviewer.store.flag_rules`), so changing a threshold never re-scores.

Two objects:

- :class:`FlagViews` installs ``flags`` (and ``scores_<flagger>``) as temp views on a
  connection; the review, plan, export and statistics queries are given this one
  object and JOIN ``flags`` in their own SQL;
- :class:`FlagQueries` (``store.flags``): flag rows, reasons, counts and run
  provenance as Arrow / Python results, and the work list a flag run scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.store.core import Database
from reviewer.store.flag_rules import EMPTY_FLAGS_SQL, RULES
from reviewer.store.runs import RunDir, RunInfo, latest_complete, list_runs
from reviewer.store.sql import copy_to_parquet, lit, parquet_view


class FlagViews:
    """The flags contract as temp views, read from the newest complete run of each flagger.

    Args:
        scores_dir: Folder where flag runs write their parquet score files (``None``:
            no runs, e.g. an in-memory store).
    """

    def __init__(self, scores_dir: Path | None) -> None:
        self.scores_dir = scores_dir

    def runs(self, flagger: str | None = None) -> list[RunInfo]:
        """Provenance of every flag run (oldest first), complete or not."""
        return [run.info for run in list_runs(self.scores_dir, flagger)]

    def latest_runs(self) -> dict[str, RunInfo]:
        """The newest complete run of each flagger: the runs flags come from."""
        return {name: run.info for name, run in latest_complete(self.scores_dir).items()}

    def score_sources(
        self, rowids: Sequence[int] | None = None, span: tuple[int, int] | None = None
    ) -> dict[str, tuple[RunDir, str]]:
        """``flagger -> (run, read_parquet SQL)`` for the newest complete runs with parts.

        ``rowids``: only the parts that scored these rows of ``samples``; ``span``: only
        the parts that scored rows whose row id is in ``[start, stop)``. Either keeps one
        part at least, for the columns, and applies to runs whose work list names rows;
        a run over a snapshot keeps every part. The caller still filters by sample id.
        """
        out = {}
        for name, run in latest_complete(self.scores_dir).items():
            files = run.part_files()
            if files and (rowids is not None or span is not None) and run.reads_audit:
                held = run.parts_holding(rowids) if rowids is not None else set()
                held |= run.parts_in_span(*span) if span is not None else set()
                held &= run.done_parts()
                files = [run.part_path(i) for i in sorted(held)] or files[:1]
            if files:
                listed = ", ".join(lit(str(f)) for f in files)
                out[name] = (run, f"read_parquet([{listed}], union_by_name = true)")
        return out

    def install(
        self,
        conn: duckdb.DuckDBPyConnection,
        settings: Settings,
        within: str | None = None,
        rowids: Sequence[int] | None = None,
        within_dir: Path | None = None,
        span: tuple[int, int] | None = None,
    ) -> list[str]:
        """Create temp views ``flags`` and ``scores_<flagger>`` on ``conn``.

        ``flags`` has the columns ``sample_id, flagger, flag, score, flagged, reason,
        run_id`` (one row per scored sample and flag; no rows before any run);
        ``scores_<flagger>`` holds the raw score columns of the newest complete run.
        Works on read-only connections.

        Args:
            conn: The connection that gets the views.
            settings: Thresholds.
            within: A relation with a ``sample_id`` column: keep only the scores of
                those samples, read once per flagger into a temp table (an export of a
                small subset then joins small tables instead of every score file).
            rowids: Read only the score parts of these rows (see :meth:`score_sources`);
                the views then hold other samples' scores too, so filter by sample id.
            within_dir: Keep ``within``'s scores in parquet files in this folder rather
                than in temp tables, which DuckDB holds in its memory: an export of
                2.3M flagged samples of 100M filled most of 512 MB with them.
            span: Read only the score parts of rows whose row id is in ``[start, stop)``
                (see :mod:`reviewer.store.slices`); filter by sample id, as with ``rowids``.

        Returns:
            The flaggers that have a complete run.
        """
        selects = []
        sources = self.score_sources(rowids, span)
        for name, (run, source) in sources.items():
            if within is not None:
                kept = f"scores_{name}_within"
                subset = (
                    f"SELECT * FROM {source}"
                    f" WHERE sample_id IN (SELECT sample_id FROM {within})"
                )
                if within_dir is None:
                    conn.execute(f"CREATE OR REPLACE TEMP TABLE {kept} AS {subset}")
                else:
                    path = str(within_dir / f"{kept}.parquet")
                    conn.execute(copy_to_parquet(subset, path))
                    conn.execute(parquet_view(kept, path))
                source = kept
            conn.execute(f"CREATE OR REPLACE TEMP VIEW scores_{name} AS SELECT * FROM {source}")
            rule = RULES.get(name)
            if rule is not None:
                selects.extend(rule(f"scores_{name}", run.info.run_id, settings.flags))
        body = " UNION ALL ".join(selects) if selects else EMPTY_FLAGS_SQL
        conn.execute(f"CREATE OR REPLACE TEMP VIEW flags AS {body}")
        return sorted(sources)


class FlagQueries:
    """Flags, scores and flag runs as results (``store.flags``).

    Args:
        db: The audit database.
        views: The flags contract views.
    """

    def __init__(self, db: Database, views: FlagViews) -> None:
        self.db = db
        self.views = views

    # -- runs ------------------------------------------------------------------

    def runs(self, flagger: str | None = None) -> list[RunInfo]:
        """Provenance of every flag run (oldest first), complete or not."""
        return self.views.runs(flagger)

    def latest_runs(self) -> dict[str, RunInfo]:
        """The newest complete run of each flagger: the runs flags come from."""
        return self.views.latest_runs()

    # -- flags -------------------------------------------------------------------

    def table(
        self,
        settings: Settings,
        only_flagged: bool = False,
        flag_names: Iterable[str] | None = None,
    ) -> pa.Table:
        """Flag rows from the newest complete runs, thresholds from ``settings``."""
        where, params = self._flag_filter(only_flagged, flag_names)
        with self.db.connect() as conn:
            self.views.install(conn, settings)
            return conn.sql(
                f"SELECT * FROM flags {where} ORDER BY sample_id, flag", params=params
            ).to_arrow_table()

    def reasons(self, sample_ids: list[str], settings: Settings) -> dict[str, list[str]]:
        """The specific reasons each given sample is flagged (only samples with a flag)."""
        details = self.details(sample_ids, settings)
        return {sid: reasons for sid, (_, reasons) in details.items()}

    def details(
        self, sample_ids: list[str], settings: Settings, rowids: Sequence[int] | None = None
    ) -> dict[str, tuple[list[str], list[str]]]:
        """Per flagged sample: the names of its raised flags and their reasons (same order).

        ``rowids``: the row ids of *all* ``sample_ids`` when known, so only the score
        parts holding them are read (a page costs what it holds, not every score file).
        """
        if not sample_ids:
            return {}
        ids = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        with self.db.connect() as conn:
            self.views.install(conn, settings, rowids=rowids)
            conn.register("_ids", ids)
            rows = conn.execute(
                "SELECT sample_id, list(flag ORDER BY flag), list(reason ORDER BY flag) FROM flags"
                " SEMI JOIN _ids USING (sample_id) WHERE flagged GROUP BY sample_id"
            ).fetchall()
        return {sid: (list(names), list(reasons)) for sid, names, reasons in rows}

    def flagged_ids(self, settings: Settings, flag_names: Iterable[str] | None = None) -> set[str]:
        """Samples with at least one raised flag (optionally only the named flags)."""
        where, params = self._flag_filter(True, flag_names)
        with self.db.connect() as conn:
            self.views.install(conn, settings)
            rows = conn.execute(f"SELECT DISTINCT sample_id FROM flags {where}", params).fetchall()
        return {r[0] for r in rows}

    def counts(self, settings: Settings, flagger: str | None = None) -> pa.Table:
        """Per flag: samples scored, samples flagged, and the run they come from.

        Args:
            settings: Thresholds.
            flagger: Count only this flagger's flags (its score files alone are read).
        """
        where, params = ("WHERE flagger = ?", [flagger]) if flagger else ("", [])
        with self.db.connect() as conn:
            self.views.install(conn, settings)
            return conn.sql(
                "SELECT flagger, flag, count(score) AS scored, count_if(flagged) AS flagged,"
                f" any_value(run_id) AS run_id FROM flags {where}"
                " GROUP BY ALL ORDER BY flagger, flag",
                params=params,
            ).to_arrow_table()

    def scores_with_samples(
        self, flagger: str, sample_columns: Iterable[str] = ("dataset", "source_file")
    ) -> pa.Table:
        """Raw scores of the newest complete run joined with some sample columns.

        Raises:
            ReviewerError: the flagger has no complete run.
        """
        sources = self.views.score_sources()
        if flagger not in sources:
            raise ReviewerError(
                f"no complete '{flagger}' run in this audit",
                f"run `reviewer flag DIR --flagger {flagger.replace('_', '-')}` first",
            )
        cols = "".join(f', s."{c}"' for c in sample_columns)
        with self.db.connect() as conn:
            return conn.sql(
                f"SELECT r.*{cols} FROM {sources[flagger][1]} r JOIN samples s USING (sample_id)"
            ).to_arrow_table()

    @staticmethod
    def _flag_filter(only_flagged: bool, names: Iterable[str] | None) -> tuple[str, list[str]]:
        clauses, params = [], []
        if only_flagged:
            clauses.append("flagged")
        if names is not None:
            wanted = list(names)
            clauses.append(f"flag IN ({', '.join('?' for _ in wanted)})" if wanted else "false")
            params.extend(wanted)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
