"""`reviewer sample --budget`: Neyman allocation over score bands, recorded as a design."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.sampling import (
    BudgetSpec,
    draw_budget_plan,
    guarded_shares,
    neyman_allocation,
)
from reviewer.stats.audit_stats import compute_stats
from reviewer.store.scores import FlagViews


def test_neyman_allocation_by_hand() -> None:
    # N_h S_h: 9000·sqrt(.01·.99) = 895.5; 1000·sqrt(.25) = 500; 100·sqrt(.09·.91) = 28.6.
    # 200 labels ∝ those: 126.0, 70.3, 4.0 → 126, 70, 4 (sum 200).
    n = neyman_allocation([9000, 1000, 100], [0.01, 0.5, 0.09], 200)
    assert n.sum() == 200
    shares = np.array([9000 * math.sqrt(0.0099), 500.0, 100 * math.sqrt(0.0819)])
    assert np.all(np.abs(n - 200 * shares / shares.sum()) <= 1.0)
    # Every stratum keeps its two labels; none gets more than it holds.
    small = neyman_allocation([1_000_000, 3, 1], [0.001, 0.5, 0.5], 50)
    assert list(small[1:]) == [2, 1] and small.sum() == 50
    with pytest.raises(ReviewerError, match="--budget"):
        neyman_allocation([10, 10, 10], [0.5] * 3, 4)


def test_budget_plan_records_its_design_and_stats_report_the_target(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(200))
    set_flags([(f"s{i:05d}", "keyword") for i in range(120)])
    info = draw_budget_plan(audit, BudgetSpec("b", 30, "precision:keyword", seed=3))
    assert info.items == 30
    assert info.spec["allocation"] == "neyman" and info.spec["target"] == "precision:keyword"
    queue = audit.store.plans.queue_sample_ids("b")
    label(audit, [(s, "confirm" if i % 3 else "reject") for i, s in enumerate(queue)])
    stats = compute_stats(audit, plan="b")
    target = next(t for t in stats.targets if t["target"] == "precision:keyword")
    assert target["labels"] == 30
    assert target["low"] < target["estimate"] < target["high"]
    assert target["srs_equivalent_labels"] >= 1


def test_budget_needs_a_scored_flag(audit: Audit, add_samples, make_rows) -> None:  # type: ignore[no-untyped-def]
    add_samples(make_rows(20))
    with pytest.raises(ReviewerError, match="no complete flag run provides"):
        draw_budget_plan(audit, BudgetSpec("b", 10, "prevalence", using="hate_hateful"))
    with pytest.raises(ReviewerError, match="needs --using"):
        draw_budget_plan(audit, BudgetSpec("b", 10, "prevalence"))
    with pytest.raises(ReviewerError, match="unknown target"):
        draw_budget_plan(audit, BudgetSpec("b", 10, "recall"))


def _scored_flags(monkeypatch: pytest.MonkeyPatch, scores: dict[str, float]) -> None:
    """A fixture clip_nsfw run scoring every sample (flagged above 0.5), as FlagViews shows it."""
    ids = list(scores)
    table = pa.table({
        "sample_id": pa.array(ids, pa.string()),
        "flagger": pa.array(["clip"] * len(ids), pa.string()),
        "flag": pa.array(["clip_nsfw"] * len(ids), pa.string()),
        "score": pa.array([scores[i] for i in ids], pa.float64()),
        "flagged": pa.array([scores[i] > 0.5 for i in ids], pa.bool_()),
        "reason": pa.array(["fixture"] * len(ids), pa.string()),
        "run_id": pa.array(["fixture"] * len(ids), pa.string()),
    })

    def install(self: FlagViews, conn: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
        conn.register("_fixture_flags", table)
        conn.execute("CREATE OR REPLACE TEMP VIEW flags AS SELECT * FROM _fixture_flags")
        return []

    monkeypatch.setattr(FlagViews, "install", install)


def test_rare_harm_score_is_cut_at_its_quantiles(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, monkeypatch
) -> None:
    # A rare-harm score: 97 % of items score < 0.05, where fixed cuts at 0.05/0.2/0.5/0.8
    # made one band of nearly everything.
    add_samples(make_rows(2000))
    rng = np.random.default_rng(4)
    values = 1 / (1 + np.exp(-rng.normal(-6.6, 1.9, 2000)))
    assert np.mean(values < 0.05) > 0.95
    _scored_flags(monkeypatch, {f"s{i:05d}": float(v) for i, v in enumerate(values)})
    info = draw_budget_plan(audit, BudgetSpec("q", 100, "prevalence", using="clip_nsfw"))
    cuts = info.spec["bands"]
    assert isinstance(cuts, list) and len(cuts) >= 6
    # The stored cuts are the score's quantiles (numpy's linear rule = DuckDB quantile_cont).
    assert cuts[0] == pytest.approx(np.quantile(values, 0.5), rel=1e-5)
    assert cuts[-1] == pytest.approx(np.quantile(values, 0.999), rel=1e-5)
    strata = audit.store.plans.strata("q").to_pylist()
    assert len(strata) == len(cuts) + 1
    assert all(row["population"] > 0 and row["drawn"] >= 2 for row in strata)
    assert sum(row["population"] for row in strata) == 2000
    assert sum(row["drawn"] for row in strata) == 100
    # The lowest band (half the items, scores ≈ 0) is not the only one holding labels.
    assert max(row["population"] for row in strata) <= 1000
    # A budget too small for 9 bands × 2 labels takes coarser quantiles instead of failing.
    small = draw_budget_plan(audit, BudgetSpec("q5", 6, "prevalence", using="clip_nsfw"))
    assert small.items == 6 and small.spec["quantiles"] == [0.9, 0.99]
    assert len(audit.store.plans.strata("q5").to_pylist()) == 3


def test_noise_score_costs_at_most_five_percent_more_labels() -> None:
    # If the score is noise every band has the same p, so the stratified variance is
    # p(1-p) Σ W_h²/n_h against SRS's p(1-p)/n (Cochran 1977, 5.6): the ratio is the
    # labels the design needs relative to SRS, computed here straight from the counts.
    populations = np.array([500_000, 300_000, 100_000, 50_000, 30_000, 10_000, 5_000, 4_000,
                            1_000], dtype=float)
    guesses = np.array([0.0003, 0.001, 0.002, 0.004, 0.008, 0.015, 0.03, 0.06, 0.3])
    budget = 2000
    weights = populations / populations.sum()
    pure = neyman_allocation(populations, guesses, budget)
    guarded = neyman_allocation(populations, guesses, budget, noise_limit=1.05)
    assert budget * np.sum(weights**2 / pure) > 1.1  # unguarded Neyman: a large penalty
    assert budget * np.sum(weights**2 / guarded) <= 1.05 + 0.01  # 0.01: integer rounding
    assert guarded.sum() == budget
    # Still leaning toward the high-score bands, not plain proportional allocation.
    assert guarded[-1] > 2 * budget * weights[-1]
    # Equal guesses (nothing to go on): exactly proportional, the mixing weight at 1.
    shares, lam = guarded_shares(populations, populations * 0.1)
    assert lam == 1.0 and np.allclose(shares, weights)
    even = neyman_allocation(populations, np.full(9, 0.01), budget, noise_limit=1.05)
    assert np.all(np.abs(even - np.maximum(2, budget * weights)) <= 3)
