"""SQL that gathers labels with their samples, flags and plan strata for the statistics (issue 4).

Statistics take plain tables: one row per current label, carrying what each
analysis needs (the LAION tag, the set of flags raised, the plan stratum and
inclusion probability). Labels live in SQLite and are exposed to DuckDB by
:meth:`Database.register_labels`; flags come from the flags contract view.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from reviewer.config import Settings
from reviewer.flag_specs import PUNSAFE_CUTS
from reviewer.store.core import Database
from reviewer.store.flag_rules import punsafe_band_sql
from reviewer.store.plans import PlanQueries
from reviewer.store.schema import NSFW_LEVELS
from reviewer.store.scores import FlagViews
from reviewer.store.slices import arrow_over_slices, over_slices
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
        # Only the current labels: the full event log is not needed and costs seconds to
        # read at a million labels. Their samples' tag, band and flags are read one slice
        # of the audit at a time, and only the labelled samples' scores are kept
        # (``within``): a join of the labels with every sample held DuckDB's cache of
        # 100M samples' ids, and a GROUP BY over every flagged sample its whole limit.
        labels = self.db.labels.current_labels()
        described = arrow_over_slices(
            self.db, self.views, settings,
            lambda where: "SELECT s.sample_id,"
            f" CASE WHEN s.nsfw IN ({levels}) THEN s.nsfw ELSE 'N/A' END AS nsfw,"
            f" coalesce({band}, 'N/A') AS punsafe_band, f.flagset"
            f" FROM samples s LEFT JOIN ({_FLAGSETS}) f USING (sample_id)"
            f" WHERE {where} AND s.sample_id IN (SELECT sample_id FROM labels_current)",
            prepare=lambda conn: conn.register("labels_current", labels),
            within="labels_current",
        )
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
            " l.reveal_depth, l.created_at, coalesce(d.nsfw, 'N/A') AS nsfw,"
            " coalesce(d.punsafe_band, 'N/A') AS punsafe_band,"
            " d.flagset, p.stratum, p.inclusion_prob"
            f" FROM labels_current l LEFT JOIN _described d USING (sample_id) {plan_join}"
            " ORDER BY l.sample_id, l.reviewer, l.category"
        )
        params: list[Any] = [plan] if plan is not None else []
        with self.db.connect() as conn:
            conn.register("labels_current", labels)
            conn.register("_described", described)
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

    def flag_masks(self, settings: Settings) -> dict[int | None, int]:
        """Flagged samples per set of raised flags, as a bit mask (:func:`flag_bits` order).

        Each flagged sample's flags are gathered with a grouped ``bit_or`` and the samples
        counted per mask (a handful of rows), one slice of the audit at a time
        (:mod:`reviewer.store.slices`): the grouping over every flagged sample of 100M
        rows grew to DuckDB's whole memory limit. ``None``: flags of no known name.
        """
        _, bits = flag_bits()
        rows = over_slices(
            self.db, self.views, settings,
            lambda where: "SELECT f.mask, count(*) FROM samples s JOIN (SELECT sample_id,"
            f" bit_or(CASE flag {bits} END::BIGINT) AS mask FROM flags WHERE flagged"
            f" GROUP BY sample_id) f USING (sample_id) WHERE {where} GROUP BY f.mask",
        )
        masks: dict[int | None, int] = {}
        for mask, count in rows:
            key = None if mask is None else int(mask)
            masks[key] = masks.get(key, 0) + int(count)
        return masks

    def flag_population(
        self, settings: Settings, masks: dict[int | None, int] | None = None
    ) -> pa.Table:
        """Items flagged by each flag, and by each pair of flags (``flag_a <= flag_b``).

        The diagonal (``flag_a = flag_b``) is each flag's own count, spelled out here
        from :meth:`flag_masks` (``masks``, when already read): a self-join of the
        flagged ids ran out of DuckDB's 512 MB at 100M samples.
        """
        names, _ = flag_bits()
        items: dict[tuple[str, str], int] = {}
        for mask, count in (self.flag_masks(settings) if masks is None else masks).items():
            raised = [name for i, name in enumerate(names) if mask is not None and mask >> i & 1]
            for a in raised:
                for b in raised:
                    if a <= b:
                        items[(a, b)] = items.get((a, b), 0) + count
        pairs = sorted(items)
        return pa.table(
            {
                "flag_a": pa.array([a for a, _ in pairs], pa.string()),
                "flag_b": pa.array([b for _, b in pairs], pa.string()),
                "items": pa.array([items[p] for p in pairs], pa.int64()),
            }
        )

    def population_counts(
        self, settings: Settings, masks: dict[int | None, int] | None = None
    ) -> dict[str, int]:
        """Dataset size, flagged items (any flag) and unflagged items.

        The flagged items are those of :meth:`flag_masks` (``masks``, when already read).
        """
        with self.db.connect() as conn:
            found = conn.execute("SELECT count(*) FROM samples").fetchall()
        flagged = sum((self.flag_masks(settings) if masks is None else masks).values())
        total = int(found[0][0])
        return {"samples": total, "flagged": flagged, "unflagged": total - flagged}
