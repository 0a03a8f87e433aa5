"""`reviewer sample --budget`: Neyman allocation over score bands, recorded as a design."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.sampling import BudgetSpec, draw_budget_plan, neyman_allocation
from reviewer.stats.audit_stats import compute_stats


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
