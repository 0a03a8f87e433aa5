"""Precision estimates: the stratified estimator by hand, Newcombe's intervals end to end."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reviewer.audit import Audit
from reviewer.sampling import SampleSpec, draw_plan
from reviewer.stats.audit_stats import compute_stats, precision_table
from reviewer.stats.precision import item_verdicts, ratio_estimate, stratified_proportion


def _items(strata: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Items per stratum: (labelled m_h, harmful k_h) → rows with y = 1 for k_h of them."""
    rows = []
    for stratum, (m, k) in strata.items():
        rows += [(stratum, 1.0)] * k + [(stratum, 0.0)] * (m - k)
    return pd.DataFrame(rows, columns=["stratum", "y"])


def test_stratified_estimate_computed_by_hand() -> None:
    # Stratum  N_h    m_h  k_h  p_h   W_h
    #   A      1000   10   3    0.30  0.1
    #   B      9000   20   2    0.10  0.9
    # p = 0.1·0.30 + 0.9·0.10 = 0.12
    # Var = W_A²(1 − f_A) p_A(1 − p_A)/(m_A − 1) + W_B²(1 − f_B) p_B(1 − p_B)/(m_B − 1)
    #     = 0.01·0.99·0.21/9 + 0.81·(1 − 20/9000)·0.09/19
    #     = 0.000231 + 0.0038283 = 0.0040593 ;  SE = 0.063713
    est = stratified_proportion(_items({"A": (10, 3), "B": (20, 2)}), {"A": 1000, "B": 9000})
    assert est.estimate == pytest.approx(0.12)
    assert est.se == pytest.approx(math.sqrt(0.01 * 0.99 * 0.21 / 9
                                             + 0.81 * (1 - 20 / 9000) * 0.09 / 19))
    assert est.se == pytest.approx(0.063713, abs=1e-6)
    # Normal interval 0.12 ± 1.95996·0.063713 = (−0.0049, 0.2449), clipped at 0.
    assert est.low == 0.0
    assert est.high == pytest.approx(0.2449, abs=1e-4)


def test_census_stratum_has_no_sampling_variance() -> None:
    # Every item of A labelled (f = 1): A adds nothing to the variance.
    est = stratified_proportion(_items({"A": (4, 1), "B": (10, 5)}), {"A": 4, "B": 1000})
    # p = (4·0.25 + 1000·0.5)/1004 ; Var = (1000/1004)²·(1 − 0.01)·0.25/9
    assert est.estimate == pytest.approx((1 + 500) / 1004)
    assert est.se == pytest.approx(math.sqrt((1000 / 1004) ** 2 * 0.99 * 0.25 / 9))


def test_unlabelled_stratum_is_left_out_and_named() -> None:
    est = stratified_proportion(_items({"A": (10, 3)}), {"A": 1000, "B": 9000})
    assert est.estimate == pytest.approx(0.3)
    assert any("B" in note for note in est.notes)


def test_ratio_estimate_for_a_partly_flagged_stratum() -> None:
    # One stratum, N = 100, 4 labelled: flagged (y=1), flagged (y=0), unflagged (y=1), (y=0).
    items = pd.DataFrame({"stratum": ["A"] * 4, "y": [1.0, 0.0, 1.0, 0.0]})
    flagged = pd.Series([1.0, 1.0, 0.0, 0.0])
    precision = ratio_estimate(items, {"A": 100}, items["y"] * flagged, flagged)
    assert precision.estimate == pytest.approx(0.5)
    recall = ratio_estimate(items, {"A": 100}, items["y"] * flagged, items["y"])
    assert recall.estimate == pytest.approx(0.5)


def test_item_verdicts_take_the_majority_and_count_ties_apart() -> None:
    labels = pd.DataFrame({
        "sample_id": ["a", "a", "a", "b", "b", "c", "d"],
        "verdict": ["confirm", "confirm", "reject", "confirm", "reject", "unsure", "escalate"],
    })
    items = item_verdicts(labels).set_index("sample_id")
    assert items.at["a", "y"] == 1.0
    assert math.isnan(items.at["b", "y"])  # tie
    assert math.isnan(items.at["c", "y"])  # unsure only
    assert items.at["d", "y"] == 1.0  # escalate = harmful


@pytest.fixture
def newcombe_audit(audit: Audit, add_samples, make_rows, set_flags, label) -> Audit:  # type: ignore[no-untyped-def]
    """148 keyword-flagged items, 15 confirmed; 20 hate-flagged items, none confirmed."""
    add_samples(make_rows(200))
    keyword = [f"s{i:05d}" for i in range(148)]
    hate = [f"s{i:05d}" for i in range(148, 168)]
    set_flags([(s, "keyword") for s in keyword] + [(s, "hate_hateful") for s in hate])
    label(audit, [(s, "confirm" if i < 15 else "reject") for i, s in enumerate(keyword)])
    label(audit, [(s, "reject") for s in hate], category="hate")
    return audit


def test_precision_intervals_match_newcombe_1998(newcombe_audit: Audit) -> None:
    rows = {r["flag"]: r for r in compute_stats(newcombe_audit).precision}
    keyword = rows["keyword"]
    assert (keyword["confirmed"], keyword["judged"], keyword["flagged"]) == (15, 148, 148)
    # Newcombe (1998) Table I, example 15/148: Wilson 0.0624–0.1605.
    assert keyword["wilson_low"] == pytest.approx(0.0624, abs=5e-5)
    assert keyword["wilson_high"] == pytest.approx(0.1605, abs=5e-5)
    hate = rows["hate_hateful"]
    assert hate["category"] == "hate"
    # 0/20: Wilson 0–0.1611, Clopper–Pearson 0–0.1684.
    assert (hate["precision"], hate["wilson_low"], hate["cp_low"]) == (0.0, 0.0, 0.0)
    assert hate["wilson_high"] == pytest.approx(0.1611, abs=5e-5)
    assert hate["cp_high"] == pytest.approx(0.1684, abs=5e-5)


def test_weighted_precision_and_recall_from_a_plan_with_control(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(400))
    flagged = [f"s{i:05d}" for i in range(100)]
    set_flags([(s, "keyword") for s in flagged])
    draw_plan(audit, SampleSpec("p", strata=("flag",), per_stratum=20, control=20, seed=5))
    queue = audit.store.plans.items("p").to_pylist()
    keyword_items = [r["sample_id"] for r in queue if r["stratum"] == "keyword"]
    control_items = [r["sample_id"] for r in queue if r["stratum"] != "keyword"]
    # Keyword stratum (N=100): 10 of 20 harmful. Control (N=300): 2 of 20 harmful.
    label(audit, [(s, "confirm" if i < 10 else "reject") for i, s in enumerate(keyword_items)])
    label(audit, [(s, "confirm" if i < 2 else "reject") for i, s in enumerate(control_items)])
    stats = compute_stats(audit, plan="p")
    row = stats.precision[0]
    assert row["weighted"] == pytest.approx(0.5)
    # Recall = 100·0.5 / (100·0.5 + 300·0.1) = 50 / 80.
    assert row["recall"] == pytest.approx(50 / 80)
    assert stats.miss_rate is not None and stats.miss_rate["rate"] == pytest.approx(0.1)
    # Harmful share of all 400: (50 + 30) / 400.
    assert stats.prevalence is not None
    assert stats.prevalence["estimate"] == pytest.approx(0.2)
    table = precision_table(audit, "p")
    assert list(table["flag"]) == ["keyword"]


def test_no_recall_without_a_control_sample(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(60))
    set_flags([(f"s{i:05d}", "keyword") for i in range(30)])
    draw_plan(audit, SampleSpec("p", strata=("flag",), per_stratum=10, seed=1))
    label(audit, [(s, "confirm") for s in audit.store.plans.queue_sample_ids("p")])
    calls: list[tuple[int, int | None]] = []
    stats = compute_stats(audit, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert stats.plan == "p"
    row = stats.precision[0]
    assert (row["precision"], row["weighted"], row["recall"]) == (1.0, 1.0, None)
    assert stats.miss_rate is None
    assert any("no control sample" in note for note in stats.notes)
