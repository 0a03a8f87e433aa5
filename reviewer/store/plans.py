"""SQL on sampling plans and review queues (issue 4).

A plan is drawn entirely inside DuckDB: every sample gets a stratum label from a
SQL expression, and the ``n_h`` samples with the smallest seeded hash of each
stratum are kept (a simple random sample). Hashing ``sample_id`` with the seed makes the draw
reproducible (same seed, same queue) and independent of storage order, with no
Python loop over millions of rows. Queue positions come from a second seeded
hash, so reviewers never see items grouped by stratum or source file.

:mod:`reviewer.sampling` decides *what* to draw (the spec); this module holds the
SQL that draws it and reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.store.connection import Progress
from reviewer.store.core import Database
from reviewer.store.scores import FlagViews
from reviewer.store.slices import over_slices
from reviewer.store.strata import flag_columns

_ASSIGNMENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS plan_assignments (plan VARCHAR, sample_id VARCHAR,"
    " reviewer VARCHAR)"
)


@dataclass(frozen=True)
class PlanInfo:
    """A stored sampling plan, as listed by :meth:`PlanQueries.all`."""

    name: str
    created_at: datetime | None
    seed: int
    items: int
    strata: int
    reviewers: tuple[str, ...]
    spec: dict[str, Any]


@dataclass(frozen=True)
class DrawRequest:
    """What the SQL draw needs; built by :func:`reviewer.sampling.draw_plan`.

    Attributes:
        name: Plan name (also the queue name reviewers open).
        seed: Seed of the hash ranking and of the queue order.
        stratum_sql: SQL expression over ``s`` (samples) and ``f`` (per-sample flags)
            giving each sample's stratum label.
        per_stratum: Items drawn from each stratum (all of a smaller stratum).
        flagged_only: Draw the strata from flagged samples only (the rest form the control).
        control: Unflagged items to draw as the control stratum (0: none).
        spec: The user's options, stored with the plan for the report.
        allocation: Items to draw per stratum (a budget's Neyman allocation); strata
            not named draw none. ``None``: ``per_stratum`` from every stratum.
    """

    name: str
    seed: int
    stratum_sql: str
    per_stratum: int
    flagged_only: bool
    control: int
    spec: dict[str, Any]
    allocation: dict[str, int] | None = None


CONTROL_STRATUM = "control (unflagged)"
_PICK = pa.struct([("h", pa.uint64()), ("sample_id", pa.string())])
_PICKS = pa.schema([
    ("stratum", pa.string()), ("is_control", pa.bool_()), ("population", pa.int64()),
    ("strata_pick", pa.list_(_PICK)), ("control_pick", pa.list_(_PICK)),
])
"""One slice's draw: population and smallest-hash picks (with their hashes) per stratum."""


class PlanQueries:
    """Sampling plans (``store.plans``): ``plans``, ``plan_strata``, ``plan_items``,
    ``plan_assignments``.

    Args:
        db: The audit database.
        views: The flags contract views (strata by flag).
    """

    def __init__(self, db: Database, views: FlagViews) -> None:
        self.db = db
        self.views = views

    # ---- reading (used by the TUI) ---------------------------------------------------

    def all(self) -> list[PlanInfo]:
        """Every stored plan, newest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT p.name, p.created_at, p.seed, p.spec,"
                " (SELECT count(*) FROM plan_items i WHERE i.plan = p.name),"
                " (SELECT count(*) FROM plan_strata t WHERE t.plan = p.name)"
                " FROM plans p ORDER BY p.created_at DESC, p.name"
            ).fetchall()
        result = []
        for name, created, seed, spec, items, strata in rows:
            spec_dict = json.loads(spec) if spec else {}
            result.append(
                PlanInfo(
                    name=name,
                    created_at=created,
                    seed=int(seed or 0),
                    items=int(items),
                    strata=int(strata),
                    reviewers=tuple(spec_dict.get("reviewers") or ()),
                    spec=spec_dict,
                )
            )
        return result

    def get(self, name: str) -> PlanInfo:
        """One plan by name; a user error naming the known plans when it does not exist."""
        plans = self.all()
        for info in plans:
            if info.name == name:
                return info
        known = ", ".join(p.name for p in plans) or "none yet"
        raise ReviewerError(
            f"unknown plan '{name}'", f"known plans: {known}; draw one with `reviewer sample`"
        )

    def queue_sample_ids(
        self, plan: str, reviewer: str | None = None, keep: set[str] | None = None
    ) -> list[str]:
        """The plan's queue in review order, without quarantined (escalated) items.

        Args:
            plan: The plan name.
            reviewer: When the plan assigns items to named reviewers, that reviewer's
                share; ``None`` (or a plan without assignments) gives the whole queue.
            keep: Quarantined items to keep anyway (the reviewer's own decisions, so
                their escalations still count as done).
        """
        info = self.get(plan)
        dropped = self.db.labels.quarantined_ids() - (keep or set())
        quarantined = pa.table({"sample_id": pa.array(sorted(dropped), pa.string())})
        with self.db.connect() as conn:
            conn.register("_quarantine", quarantined)
            sql = (
                "SELECT i.sample_id FROM plan_items i WHERE i.plan = ?"
                " AND i.sample_id NOT IN (SELECT sample_id FROM _quarantine)"
            )
            params: list[Any] = [plan]
            if reviewer is not None and info.reviewers:
                if reviewer not in info.reviewers:
                    raise ReviewerError(
                        f"plan '{plan}' has no items for reviewer '{reviewer}'",
                        f"its reviewers: {', '.join(info.reviewers)}",
                    )
                sql += (
                    " AND i.sample_id IN (SELECT sample_id FROM plan_assignments"
                    " WHERE plan = ? AND reviewer = ?)"
                )
                params += [plan, reviewer]
            rows = conn.execute(sql + " ORDER BY i.position", params).fetchall()
        return [r[0] for r in rows]

    def strata(self, plan: str) -> pa.Table:
        """Strata of a plan: population N_h, drawn n_h, inclusion probability, control flag."""
        self.get(plan)
        with self.db.connect() as conn:
            return conn.sql(
                "SELECT stratum, population, drawn, inclusion_prob, is_control FROM plan_strata"
                " WHERE plan = ? ORDER BY is_control, stratum",
                params=[plan],
            ).to_arrow_table()

    def items(self, plan: str) -> pa.Table:
        """Items of a plan in queue order with stratum and inclusion probability."""
        self.get(plan)
        with self.db.connect() as conn:
            return conn.sql(
                "SELECT position, sample_id, stratum, inclusion_prob FROM plan_items"
                " WHERE plan = ? ORDER BY position",
                params=[plan],
            ).to_arrow_table()

    def assignments(self, plan: str) -> pa.Table:
        """(sample_id, reviewer) rows of a plan that assigns items to named reviewers."""
        with self.db.connect() as conn:
            if not _has_table(conn, "plan_assignments"):
                return pa.table({"sample_id": pa.array([], pa.string()),
                                 "reviewer": pa.array([], pa.string())})
            return conn.sql(
                "SELECT sample_id, reviewer FROM plan_assignments WHERE plan = ?"
                " ORDER BY sample_id, reviewer",
                params=[plan],
            ).to_arrow_table()

    # ---- populations (used by `reviewer plan`) -------------------------------------

    def stratum_populations(
        self,
        stratum_sql: str,
        keys: Sequence[str],
        settings: Settings,
        flagged_only: bool,
        progress: Progress | None = None,
    ) -> list[tuple[str, int]]:
        """Population size N_h of each stratum (quarantined items excluded)."""
        rows = self._sliced(
            settings,
            lambda where: f"SELECT stratum, count(*) FROM"
            f" ({self._population_sql(stratum_sql, keys, where)})"
            + (" WHERE flagged" if flagged_only else "") + " GROUP BY 1",
            progress=progress,
        )
        sizes: dict[str, int] = {}
        for stratum, n in rows:
            sizes[str(stratum)] = sizes.get(str(stratum), 0) + int(n)
        return sorted(sizes.items())

    def stratum_scores(
        self, stratum_sql: str, keys: Sequence[str], settings: Settings, flag: str,
        flagged_only: bool,
    ) -> list[tuple[str, int, float | None]]:
        """N_h and the mean score of ``flag`` (NULL where unscored) of each stratum.

        ``keys`` must include ``score:FLAG`` so the flag's score is pivoted.
        """
        rows = self._sliced(
            settings,
            lambda where: f"SELECT {stratum_sql} AS stratum, count(*),"
            f" sum(f.score_{flag}), count(f.score_{flag})"
            + self._scored_sql(keys, where)
            + (" AND f.flagset IS NOT NULL" if flagged_only else "") + " GROUP BY 1",
        )
        merged = _merge_means(((str(h),), n, total, scored) for h, n, total, scored in rows)
        return [(key[0], n, mean) for key, (n, mean) in sorted(merged.items())]

    def score_quantiles(
        self, keys: Sequence[str], settings: Settings, flag: str, quantiles: Sequence[float],
        domain_flag: str | None = None,
    ) -> list[float]:
        """Quantiles of ``flag``'s score over the items a target is about (none if unscored).

        The same rows as :meth:`stratum_scores` (quarantined items excluded); with
        ``domain_flag`` only items raising that flag (a precision target's domain).
        ``keys`` must include ``score:FLAG`` so the flag's score is pivoted.
        """
        with self.db.connect() as conn:
            self._prepare(conn, settings)
            row = conn.execute(
                f"SELECT quantile_cont(f.score_{flag}, ?::DOUBLE[])"
                + self._scored_sql(keys)
                + (" AND list_contains(string_split(f.flagset, '+'), ?)" if domain_flag else ""),
                [list(quantiles), *([domain_flag] if domain_flag else [])],
            ).fetchone()
        return [] if row is None or row[0] is None else [float(q) for q in row[0]]

    def score_histogram(
        self, keys: Sequence[str], settings: Settings, flag: str, cuts: Sequence[float],
        domain_flag: str | None = None,
    ) -> list[tuple[str | None, int, int, float | None]]:
        """Items and mean score of ``flag`` per (flag set, band) of the target's domain.

        The band is the number of ``cuts`` at or below the score (-1 where unscored), the
        rule of :func:`reviewer.store.strata.stratum_expression`, so any subset of the cuts
        regroups these rows into that subset's bands without another pass over the items.
        With ``domain_flag`` only items raising it, by flag set; otherwise every item, the
        flag set ``None``. ``keys`` must include ``score:FLAG`` so the score is pivoted.
        """
        score = f"f.score_{flag}"
        rows = self._sliced(
            settings,
            lambda where: f"SELECT {'f.flagset' if domain_flag else 'NULL'} AS flagset,"
            f" CASE WHEN {score} IS NULL THEN -1"
            f" ELSE len(list_filter(?::DOUBLE[], lambda c: c <= {score})) END AS band,"
            f" count(*), sum({score}), count({score})"
            + self._scored_sql(keys, where)
            + (" AND list_contains(string_split(f.flagset, '+'), ?)" if domain_flag else "")
            + " GROUP BY 1, 2",
            [list(cuts), *([domain_flag] if domain_flag else [])],
        )
        merged = _merge_means(((fs, int(b)), n, total, scored) for fs, b, n, total, scored in rows)
        order = sorted(merged, key=lambda k: (k[0] is None, k[0] or "", k[1]))  # NULLS LAST
        return [(fs, band, *merged[(fs, band)]) for fs, band in order]

    # ---- drawing -----------------------------------------------------------------------

    def create(
        self,
        request: DrawRequest,
        keys: Sequence[str],
        settings: Settings,
        replace: bool = False,
        progress: Progress | None = None,
    ) -> None:
        """Draw a plan and store its strata, items and assignments in one transaction.

        Args:
            request: What to draw (and, in ``spec``, the reviewers and overlap).
            keys: The ``--strata`` keys (to know which flag scores to pivot).
            settings: The audit settings (flag thresholds).
            replace: Delete an existing plan of the same name first.
            progress: ``progress(done, total)`` in percent of the draw's pass over the audit
                (read slice by slice before the write lock is taken).
        """
        self._refuse_existing(request.name, replace)  # before the long read, not after it
        picks = self._draw_slices(request, keys, settings, progress)
        with self.db.connect(write=True) as conn:
            conn.execute(_ASSIGNMENTS_DDL)
            if self._refuse_existing(request.name, replace, conn):
                for table in ("plans", "plan_strata", "plan_items", "plan_assignments"):
                    column = "name" if table == "plans" else "plan"
                    conn.execute(f"DELETE FROM {table} WHERE {column} = ?", [request.name])
            self._draw(conn, request, picks)
            self._assign(conn, request)
            conn.execute(
                "INSERT INTO plans VALUES (?, now()::TIMESTAMP, ?, ?)",
                [request.name, request.seed, json.dumps(request.spec)],
            )

    def _refuse_existing(
        self, name: str, replace: bool, conn: duckdb.DuckDBPyConnection | None = None
    ) -> bool:
        """Whether plan ``name`` exists (read through ``conn``, else a short connection);
        refused unless it is to be replaced."""
        if conn is None:
            with self.db.connect() as own:
                return self._refuse_existing(name, replace, own)
        if not _has_table(conn, "plans"):
            return False
        found = conn.execute("SELECT count(*) FROM plans WHERE name = ?", [name]).fetchall()
        if found[0][0] and not replace:
            raise ReviewerError(
                f"plan '{name}' already exists",
                "choose another --name, or pass --replace to draw it again",
            )
        return bool(found[0][0])

    @staticmethod
    def _assign(conn: duckdb.DuckDBPyConnection, request: DrawRequest) -> None:
        """Deal queue positions to reviewers round-robin; overlap items go to K of them.

        Item at position p goes to reviewer slots p, p+1, ..., p+k-1 (mod R), where k is
        the overlap K for the first ``overlap_share`` of positions and 1 after: every
        reviewer gets a fair share, and each overlap item is seen by exactly K people.
        """
        reviewers = list(request.spec.get("reviewers") or [])
        if not reviewers:
            return
        size = len(reviewers)
        overlap = int(request.spec.get("overlap") or 1)
        share = float(request.spec.get("overlap_share", 1.0))
        conn.register(
            "_reviewers",
            pa.table({"slot": pa.array(range(size), pa.int64()),
                      "reviewer": pa.array(reviewers, pa.string())}),
        )
        conn.execute(
            "INSERT INTO plan_assignments SELECT ?, i.sample_id, r.reviewer"
            " FROM plan_items i JOIN _reviewers r"
            " ON ((r.slot - i.position % ?) + ?) % ? < CASE WHEN i.position < ?"
            " * (SELECT count(*) FROM plan_items WHERE plan = ?) THEN ? ELSE 1 END"
            " WHERE i.plan = ?",
            [request.name, size, size, size, share, request.name, overlap, request.name],
        )

    def _prepare(self, conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.views.install(conn, settings)
        conn.register("_quarantine", self._quarantine())

    def _quarantine(self) -> pa.Table:
        quarantined = sorted(self.db.labels.quarantined_ids())
        return pa.table({"sample_id": pa.array(quarantined, pa.string())})

    def _sliced(
        self,
        settings: Settings,
        statement: Callable[[str], str],
        params: Sequence[Any] | None = None,
        progress: Progress | None = None,
    ) -> list[tuple[Any, ...]]:
        """``statement`` over every slice of the audit (:mod:`reviewer.store.slices`),
        quarantined samples registered as ``_quarantine``."""
        quarantine = self._quarantine()
        return over_slices(
            self.db, self.views, settings, statement, params, progress,
            prepare=lambda conn: conn.register("_quarantine", quarantine),
        )

    @staticmethod
    def _scored_sql(keys: Sequence[str], where: str = "TRUE") -> str:
        """FROM/WHERE of the samples (quarantine excluded, ``where`` holding) with their
        pivoted flags ``f``."""
        return (
            f" FROM samples s LEFT JOIN ({flag_columns(keys)}) f USING (sample_id)"
            f" WHERE ({where}) AND s.sample_id NOT IN (SELECT sample_id FROM _quarantine)"
        )

    @staticmethod
    def _population_sql(stratum_sql: str, keys: Sequence[str], where: str) -> str:
        return (
            f"SELECT s.sample_id, {stratum_sql} AS stratum, f.flagset IS NOT NULL AS flagged"
            + PlanQueries._scored_sql(keys, where)
        )

    def _draw_slices(
        self,
        request: DrawRequest,
        keys: Sequence[str],
        settings: Settings,
        progress: Progress | None = None,
    ) -> pa.Table:
        """Each slice's population and ``n`` smallest-hash picks of each stratum.

        ``min_by(x, h, n)`` keeps the n smallest hashes of each stratum with a heap, in
        one pass: 5x faster than ranking every row with a window function. Each slice
        keeps its own n smallest with their hashes (:data:`_PICKS`); the n smallest of
        those are the stratum's n smallest (:meth:`_draw`).
        """
        seed = str(int(request.seed))
        keep_control = request.flagged_only and request.control > 0
        picked = "struct_pack(h := h, sample_id := sample_id)"
        rows = self._sliced(
            settings,
            lambda where: "SELECT stratum, is_control, count(*),"
            f" min_by({picked}, h, {int(request.per_stratum)}),"
            f" min_by({picked}, h, {max(1, int(request.control))})"
            " FROM (SELECT sample_id, CASE WHEN flagged OR NOT ? THEN stratum ELSE ? END"
            " AS stratum, NOT (flagged OR NOT ?) AS is_control,"
            f" hash(sample_id || ':draw:{seed}') AS h"
            f" FROM ({self._population_sql(request.stratum_sql, keys, where)}))"
            + ("" if keep_control else " WHERE NOT is_control")
            + " GROUP BY stratum, is_control",
            [request.flagged_only, CONTROL_STRATUM, request.flagged_only],
            progress,
        )
        return pa.Table.from_pylist(
            [dict(zip(_PICKS.names, row, strict=True)) for row in rows], schema=_PICKS
        )

    def _draw(self, conn: duckdb.DuckDBPyConnection, request: DrawRequest, picks: pa.Table) -> None:
        """Store the plan from the slices' picks: each stratum's n smallest hashes overall."""
        seed = str(int(request.seed))
        conn.register("_slices", picks)
        conn.execute(
            "CREATE TEMP TABLE _sizes AS SELECT stratum, is_control,"
            " sum(population)::BIGINT AS population,"
            " [p.sample_id FOR p IN list_slice(list_sort(flatten(list(strata_pick))), 1,"
            f" {int(request.per_stratum)})] AS strata_pick,"
            " [p.sample_id FOR p IN list_slice(list_sort(flatten(list(control_pick))), 1,"
            f" {max(1, int(request.control))})] AS control_pick"
            " FROM _slices GROUP BY stratum, is_control"
        )
        conn.unregister("_slices")
        if request.allocation is not None:
            # Any subset of a simple random sample chosen without looking at the items is
            # itself a simple random sample: keep the allocated number of the drawn ones.
            conn.register("_alloc", pa.table({
                "stratum": pa.array(list(request.allocation), pa.string()),
                "n": pa.array(list(request.allocation.values()), pa.int64())}))
            conn.execute(
                "UPDATE _sizes SET strata_pick = list_slice(strata_pick, 1,"
                " coalesce((SELECT n FROM _alloc a WHERE a.stratum = _sizes.stratum), 0))"
                " WHERE NOT is_control"
            )
        conn.execute(
            "CREATE TEMP TABLE _drawn AS SELECT unnest(pick) AS sample_id, stratum,"
            " len(pick) / population AS inclusion_prob FROM (SELECT stratum, population,"
            " CASE WHEN is_control THEN control_pick ELSE strata_pick END AS pick FROM _sizes)"
        )
        total = conn.execute("SELECT count(*) FROM _drawn").fetchall()[0]
        if not total or not total[0]:
            raise ReviewerError(
                f"plan '{request.name}': no samples to draw",
                "ingest samples first; strata by flag need `reviewer flag` first"
                " (or use --strata nsfw)",
            )
        conn.execute(
            "INSERT INTO plan_strata SELECT ?, stratum, population, len(pick), len(pick) /"
            " population, is_control FROM (SELECT *, CASE WHEN is_control THEN control_pick"
            " ELSE strata_pick END AS pick FROM _sizes)",
            [request.name],
        )
        conn.execute(
            "INSERT INTO plan_items SELECT ?, row_number() OVER"
            f" (ORDER BY hash(sample_id || ':order:{seed}'), sample_id) - 1,"
            " sample_id, stratum, inclusion_prob, NULL FROM _drawn",
            [request.name],
        )
        for temp in ("_drawn", "_sizes"):
            conn.execute(f"DROP TABLE {temp}")


def _merge_means(
    rows: Iterable[tuple[Any, int, float | None, int]],
) -> dict[Any, tuple[int, float | None]]:
    """Per key: items and mean score from slices' ``(key, items, score sum, scored)``."""
    sums: dict[Any, list[float]] = {}
    for key, n, total, scored in rows:
        acc = sums.setdefault(key, [0, 0.0, 0])
        acc[0] += int(n)
        acc[1] += float(total or 0.0)
        acc[2] += int(scored)
    return {
        k: (int(n), total / scored if scored else None) for k, (n, total, scored) in sums.items()
    }


def _has_table(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()[0]
    return bool(row and row[0])
