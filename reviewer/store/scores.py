"""SQL on flagger output: score files (parquet, written by flag runs) and derived flags.

Flag jobs never hold the DuckDB lock while scoring: they write parquet parts under
``scores/<flagger>/<run_id>/`` (see :mod:`reviewer.flaggers.runs`) and these
queries read them. Only the newest *complete* run of each flagger counts; flags
come from its score columns and the thresholds in ``reviewer.toml``
(:mod:`reviewer.store.flag_rules`), so changing a threshold never re-scores.

Other parts of reviewer use:

- :meth:`ScoreQueries.install_flag_views` to JOIN ``flags`` (and ``scores_<flagger>``)
  in their own SQL on a connection from ``store.connect()``;
- :meth:`ScoreQueries.flags`, :meth:`ScoreQueries.flag_reasons`,
  :meth:`ScoreQueries.flagged_ids` for Arrow / Python results;
- :meth:`ScoreQueries.flag_runs` for provenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.flaggers.runs import RunDir, RunInfo, latest_complete, list_runs
from reviewer.store.core import StoreBase
from reviewer.store.flag_rules import EMPTY_FLAGS_SQL, RULES
from reviewer.store.work_lists import check_datasets, check_sample_columns


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class ScoreQueries(StoreBase):
    """Methods on scores and flags."""

    # -- work lists and runs -----------------------------------------------------

    def snapshot_work_list(
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
        with self.connect() as conn:
            check_sample_columns(conn, columns)
            cols = ", ".join(f'"{c}"' for c in columns)
            where = ""
            if datasets:
                check_datasets(conn, datasets)
                where = f"WHERE dataset IN ({', '.join(_lit(d) for d in datasets)})"
            query = f"SELECT {cols} FROM samples {where}"
            if sample is not None:
                query += f" ORDER BY hash(sample_id, {int(seed)}), sample_id LIMIT {int(sample)}"
            tmp = dest.with_name(f".{dest.name}.tmp")
            conn.execute(
                f"COPY ({query}) TO {_lit(str(tmp))} (FORMAT parquet, ROW_GROUP_SIZE 122880)"
            )
        tmp.replace(dest)
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(dest).metadata.num_rows)

    def flag_runs(self, flagger: str | None = None) -> list[RunInfo]:
        """Provenance of every flag run (oldest first), complete or not."""
        return [run.info for run in list_runs(self.scores_dir, flagger)]

    def latest_runs(self) -> dict[str, RunInfo]:
        """The newest complete run of each flagger: the runs flags come from."""
        return {name: run.info for name, run in latest_complete(self.scores_dir).items()}

    def _score_sources(self) -> dict[str, tuple[RunDir, str]]:
        """``flagger -> (run, read_parquet SQL)`` for the newest complete runs with parts."""
        out = {}
        for name, run in latest_complete(self.scores_dir).items():
            files = run.part_files()
            if files:
                listed = ", ".join(_lit(str(f)) for f in files)
                out[name] = (run, f"read_parquet([{listed}], union_by_name = true)")
        return out

    # -- flags -------------------------------------------------------------------

    def install_flag_views(self, conn: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
        """Create temp views ``flags`` and ``scores_<flagger>`` on ``conn``.

        ``flags`` has the columns ``sample_id, flagger, flag, score, flagged, reason,
        run_id`` (one row per scored sample and flag); ``scores_<flagger>`` holds the
        raw score columns of the newest complete run. Works on read-only connections.

        Returns:
            The flaggers that have a complete run.
        """
        selects = []
        sources = self._score_sources()
        for name, (run, source) in sources.items():
            conn.execute(f"CREATE OR REPLACE TEMP VIEW scores_{name} AS SELECT * FROM {source}")
            rule = RULES.get(name)
            if rule is not None:
                selects.extend(rule(f"scores_{name}", run.info.run_id, settings.flags))
        body = " UNION ALL ".join(selects) if selects else EMPTY_FLAGS_SQL
        conn.execute(f"CREATE OR REPLACE TEMP VIEW flags AS {body}")
        return sorted(sources)

    def flags(
        self,
        settings: Settings,
        only_flagged: bool = False,
        flag_names: Iterable[str] | None = None,
    ) -> pa.Table:
        """Flag rows from the newest complete runs, thresholds from ``settings``."""
        where, params = self._flag_filter(only_flagged, flag_names)
        with self.connect() as conn:
            self.install_flag_views(conn, settings)
            return conn.sql(
                f"SELECT * FROM flags {where} ORDER BY sample_id, flag", params=params
            ).to_arrow_table()

    def flag_reasons(self, sample_ids: list[str], settings: Settings) -> dict[str, list[str]]:
        """The specific reasons each given sample is flagged (only samples with a flag)."""
        details = self.flag_details(sample_ids, settings)
        return {sid: reasons for sid, (_, reasons) in details.items()}

    def flag_details(
        self, sample_ids: list[str], settings: Settings
    ) -> dict[str, tuple[list[str], list[str]]]:
        """Per flagged sample: the names of its raised flags and their reasons (same order)."""
        if not sample_ids:
            return {}
        ids = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        with self.connect() as conn:
            self.install_flag_views(conn, settings)
            conn.register("_ids", ids)
            rows = conn.execute(
                "SELECT sample_id, list(flag ORDER BY flag), list(reason ORDER BY flag) FROM flags"
                " SEMI JOIN _ids USING (sample_id) WHERE flagged GROUP BY sample_id"
            ).fetchall()
        return {sid: (list(names), list(reasons)) for sid, names, reasons in rows}

    def flagged_ids(self, settings: Settings, flag_names: Iterable[str] | None = None) -> set[str]:
        """Samples with at least one raised flag (optionally only the named flags)."""
        where, params = self._flag_filter(True, flag_names)
        with self.connect() as conn:
            self.install_flag_views(conn, settings)
            rows = conn.execute(f"SELECT DISTINCT sample_id FROM flags {where}", params).fetchall()
        return {r[0] for r in rows}

    def flag_counts(self, settings: Settings, flagger: str | None = None) -> pa.Table:
        """Per flag: samples scored, samples flagged, and the run they come from.

        Args:
            settings: Thresholds.
            flagger: Count only this flagger's flags (its score files alone are read).
        """
        where, params = ("WHERE flagger = ?", [flagger]) if flagger else ("", [])
        with self.connect() as conn:
            self.install_flag_views(conn, settings)
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
        sources = self._score_sources()
        if flagger not in sources:
            raise ReviewerError(
                f"no complete '{flagger}' run in this audit",
                f"run `reviewer flag DIR --flagger {flagger.replace('_', '-')}` first",
            )
        cols = "".join(f', s."{c}"' for c in sample_columns)
        with self.connect() as conn:
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
