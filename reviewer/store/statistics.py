"""SQL that gathers labels with their samples, flags and plan strata for the statistics (issue 4).

Statistics take plain tables: one row per current label, carrying what each
analysis needs (the LAION tag, the set of flags raised, the plan stratum and
inclusion probability). Labels live in SQLite and are exposed to DuckDB by
:meth:`Database.register_labels`; flags come from the flags contract view.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.flag_specs import PUNSAFE_CUTS
from reviewer.store.core import Database
from reviewer.store.flag_rules import punsafe_band_sql
from reviewer.store.plans import PlanQueries
from reviewer.store.schema import NSFW_LEVELS
from reviewer.store.scores import FlagViews
from reviewer.store.strata import flag_bits

_FLAGSETS = (
    "SELECT sample_id, string_agg(DISTINCT flag, '+' ORDER BY flag) AS flagset"
    " FROM flags WHERE flagged GROUP BY sample_id"
)


class StatsQueries:
    """Reads feeding :mod:`reviewer.stats` (``store.stats``).

    Args:
        db: The audit database.
        views: The flags contract views.
        plans: Plan lookups (an unknown plan is a user error naming the known ones).
    """

    def __init__(self, db: Database, views: FlagViews, plans: PlanQueries) -> None:
        self.db = db
        self.views = views
        self.plans = plans

    def _stats_connection(self, conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        # Only the current labels: the full event log is not needed and costs seconds
        # to read at a million labels. Only their scores, too: the flags of a few
        # thousand labelled items, not a GROUP BY over every flagged sample of the audit
        # (at 100M rows that held up to DuckDB's whole memory limit).
        conn.register("labels_current", self.db.labels.current_labels())
        self.views.install(conn, settings, within="labels_current")

    def labelled_items(self, settings: Settings, plan: str | None = None) -> pa.Table:
        """One row per current label with the sample's tag, punsafe band, flags and stratum.

        Columns: ``sample_id, reviewer, category, verdict, seconds_on_item, reveal_depth,
        created_at, nsfw`` (UNLIKELY / UNSURE / NSFW / N/A), ``punsafe_band``, ``flagset``
        (flags raised joined with ``+``, NULL when none), ``stratum`` and
        ``inclusion_prob`` (NULL unless the item belongs to ``plan``).
        """
        if plan is not None:
            self.plans.get(plan)
        levels = ", ".join(f"'{lvl}'" for lvl in NSFW_LEVELS)
        band = punsafe_band_sql("s.punsafe", settings.flags[PUNSAFE_CUTS])
        plan_join = (
            "LEFT JOIN (SELECT sample_id, any_value(stratum) AS stratum,"
            " any_value(inclusion_prob) AS inclusion_prob FROM plan_items WHERE plan = ?"
            " GROUP BY sample_id) p USING (sample_id)"
            if plan is not None
            else "LEFT JOIN (SELECT NULL::VARCHAR AS sample_id, NULL::VARCHAR AS stratum,"
            " NULL::DOUBLE AS inclusion_prob) p USING (sample_id)"
        )
        sql = (
            "SELECT l.sample_id, l.reviewer, l.category, l.verdict, l.seconds_on_item,"
            " l.reveal_depth, l.created_at,"
            f" CASE WHEN s.nsfw IN ({levels}) THEN s.nsfw ELSE 'N/A' END AS nsfw,"
            f" coalesce({band}, 'N/A') AS punsafe_band,"
            " f.flagset, p.stratum, p.inclusion_prob"
            " FROM labels_current l LEFT JOIN samples s USING (sample_id)"
            f" LEFT JOIN ({_FLAGSETS}) f USING (sample_id) {plan_join}"
            " ORDER BY l.sample_id, l.reviewer, l.category"
        )
        params: list[Any] = [plan] if plan is not None else []
        with self.db.connect() as conn:
            self._stats_connection(conn, settings)
            return conn.sql(sql, params=params).to_arrow_table()

    def plan_item_flags(self, plan: str, settings: Settings) -> pa.Table:
        """Every drawn item of ``plan`` with its stratum and the flags it raised.

        The design needs them to know which flags an unlabelled stratum can hold.
        """
        self.plans.get(plan)
        sql = (
            "SELECT i.sample_id, i.stratum, f.flagset FROM plan_items i"
            f" LEFT JOIN ({_FLAGSETS}) f USING (sample_id) WHERE i.plan = ?"
            " ORDER BY i.position"
        )
        with self.db.connect() as conn:
            conn.execute(
                "CREATE TEMP TABLE _plan_ids AS SELECT DISTINCT sample_id FROM plan_items"
                " WHERE plan = ?", [plan]
            )
            self.views.install(conn, settings, within="_plan_ids")  # the plan's scores only
            return conn.sql(sql, params=[plan]).to_arrow_table()

    def flag_population(self, settings: Settings) -> pa.Table:
        """Items flagged by each flag, and by each pair of flags (``flag_a <= flag_b``).

        The diagonal (``flag_a = flag_b``) is each flag's own count. Each flagged sample's
        flags are gathered as a bit mask (a grouped ``bit_or``, which DuckDB spills), the
        samples counted per mask (a handful of rows) and the pairs spelled out here: a
        self-join of the flagged ids ran out of DuckDB's 512 MB at 100M samples.
        """
        names, bits = flag_bits()
        with self.db.connect() as conn:
            self.views.install(conn, settings)
            masks = conn.execute(
                "SELECT mask, count(*) FROM (SELECT sample_id,"
                f" bit_or(CASE flag {bits} END::BIGINT) AS mask FROM flags WHERE flagged"
                " GROUP BY sample_id) GROUP BY mask"
            ).fetchall()
        items: dict[tuple[str, str], int] = {}
        for mask, count in masks:
            raised = [name for i, name in enumerate(names) if int(mask) >> i & 1]
            for a in raised:
                for b in raised:
                    if a <= b:
                        items[(a, b)] = items.get((a, b), 0) + int(count)
        pairs = sorted(items)
        return pa.table(
            {
                "flag_a": pa.array([a for a, _ in pairs], pa.string()),
                "flag_b": pa.array([b for _, b in pairs], pa.string()),
                "items": pa.array([items[p] for p in pairs], pa.int64()),
            }
        )

    def population_counts(self, settings: Settings) -> dict[str, int]:
        """Dataset size, flagged items (any flag) and unflagged items.

        Scores only name samples of the audit and sample ids are unique (ingest skips
        duplicates), so the flagged items are the distinct flagged ids: no join with
        every sample, whose row count DuckDB keeps without a scan. Counted by grouping,
        which spills, rather than ``count(DISTINCT …)``.
        """
        with self.db.connect() as conn:
            self.views.install(conn, settings)
            row = conn.execute(
                "SELECT (SELECT count(*) FROM samples),"
                " (SELECT count(*) FROM (SELECT sample_id FROM flags WHERE flagged"
                " GROUP BY sample_id))"
            ).fetchall()[0]
        total, flagged = (int(row[0]), int(row[1])) if row else (0, 0)
        return {"samples": total, "flagged": flagged, "unflagged": total - flagged}
