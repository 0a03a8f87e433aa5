"""Precision end to end: Newcombe's intervals among labelled items, the design from a plan."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reviewer.audit import Audit
from reviewer.sampling import SampleSpec, draw_plan
from reviewer.stats.audit_stats import compute_stats, precision_table
from reviewer.stats.precision import item_verdicts


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
    assert (hate["labelled_share"], hate["wilson_low"], hate["cp_low"]) == (0.0, 0.0, 0.0)
    # No plan: no design-based figure, and the notes say what the figures describe.
    assert hate["precision"] is None
    assert any("labelled items only" in n for n in compute_stats(newcombe_audit).notes)
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
    assert row["precision"] == pytest.approx(0.5)
    # Recall = 100·0.5 / (100·0.5 + 300·0.1) = 50 / 80.
    assert row["recall"] == pytest.approx(50 / 80)
    assert stats.miss_rate is not None and stats.miss_rate["estimate"] == pytest.approx(0.1)
    # Harmful share of all 400: (50 + 30) / 400.
    assert stats.prevalence is not None
    assert stats.prevalence["estimate"] == pytest.approx(0.2)
    table = precision_table(stats)
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
    assert (row["labelled_share"], row["precision"], row["recall"]) == (1.0, 1.0, None)
    assert stats.miss_rate is None
    assert any("no control sample" in note for note in stats.notes)


def test_plan_estimates_use_exactly_the_plans_items(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    """Issue 11, point 4: labelling another queue must not move the plan's precision."""
    add_samples(make_rows(300))
    flagged = [f"s{i:05d}" for i in range(200)]
    set_flags([(s, "keyword") for s in flagged])
    draw_plan(audit, SampleSpec("round1", strata=("flag",), per_stratum=20, seed=2))
    queue = audit.store.plans.queue_sample_ids("round1")
    label(audit, [(s, "confirm" if i < 10 else "reject") for i, s in enumerate(queue)])
    before = compute_stats(audit, plan="round1").precision[0]
    others = [s for s in flagged if s not in set(queue)][:60]
    label(audit, [(s, "reject") for s in others], reviewer="ben")
    after = compute_stats(audit, plan="round1")
    row = after.precision[0]
    assert (row["precision"], row["low"], row["high"]) == (
        before["precision"], before["low"], before["high"])
    assert row["precision"] == pytest.approx(0.5)
    # The labels outside the plan appear only among labelled items.
    assert (row["confirmed"], row["judged"]) == (10, 80)
    assert after.design["other_labels"] == 60
