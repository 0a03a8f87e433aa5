"""`reviewer sample --budget`: labels over score bands for the interval `stats` prints."""

from __future__ import annotations

import itertools
import json
import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy.special import expit

import reviewer
from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.sampling import BudgetSpec, draw_budget_plan
from reviewer.stats.allocation import (
    CANDIDATE_QUANTILES,
    choose_bands,
    guarded_shares,
    interval_allocation,
    quantile_cuts,
)
from reviewer.stats.audit_stats import compute_stats
from reviewer.stats.design import StratumSums, ratio_arrays
from reviewer.store.scores import FlagViews


def _stats_variance(populations: list[int], rates: list[float], labels: tuple[int, ...]) -> float:
    """The variance `stats` computes for a population share, written out per stratum from
    docs/statistics.md: Σ W² (1 − n/N) s² / n, s² = max(sample variance, add-half floor),
    at k = n·p positives (sample variance k(n − k)/(n(n − 1)), floor p̃(1 − p̃),
    p̃ = (k + ½)/(n + 1))."""
    total = sum(populations)
    out = 0.0
    for big_n, p, n in zip(populations, rates, labels, strict=True):
        k = n * p
        sample = k * (n - k) / (n * (n - 1)) if n > 1 else 0.0
        smooth = (k + 0.5) / (n + 1)
        out += (big_n / total) ** 2 * (1 - n / big_n) * max(sample, smooth * (1 - smooth)) / n
    return out


def test_allocation_is_the_brute_force_optimum_of_the_printed_variance() -> None:
    # Every split of 40 labels over 3 strata (at least 2 each), searched exhaustively.
    populations, rates, budget = [50_000, 8_000, 500], [0.002, 0.03, 0.4], 40
    best = min((n for n in itertools.product(range(2, budget), repeat=3) if sum(n) == budget),
               key=lambda n: _stats_variance(populations, rates, n))
    ours = interval_allocation(populations, rates, budget, noise_limit=None)
    assert ours.sum() == budget
    assert _stats_variance(populations, rates, tuple(ours)) == pytest.approx(
        _stats_variance(populations, rates, best), rel=1e-9)
    # The floor matters here: classical Neyman (n ∝ N·sqrt(p(1 − p))) gives a wider interval.
    neyman = np.array([n * math.sqrt(p * (1 - p)) for n, p in zip(populations, rates,
                                                                   strict=True)])
    classic = np.maximum(2, np.round(budget * neyman / neyman.sum())).astype(int)
    classic[0] += budget - classic.sum()
    assert _stats_variance(populations, rates, tuple(classic)) > 1.05 * _stats_variance(
        populations, rates, tuple(ours))


def test_allocation_is_neyman_where_the_floor_is_idle() -> None:
    # Common harm and many labels: the floor equals the sample variance, so the optimum is
    # Neyman's n_h ∝ N_h sqrt(p_h (1 − p_h)) (Cochran 1977, eq. 5.26), within rounding.
    populations, rates, budget = [9000, 1000, 100], [0.2, 0.5, 0.3], 1200
    n = interval_allocation(populations, rates, budget, noise_limit=None)
    shares = np.array([9000 * math.sqrt(0.16), 1000 * 0.5, 100 * math.sqrt(0.21)])
    assert n.sum() == budget
    assert np.all(np.abs(n - budget * shares / shares.sum()) <= 3)
    # Every stratum keeps its two labels; none gets more than it holds.
    small = interval_allocation([1_000_000, 3, 1], [0.001, 0.5, 0.5], 50)
    assert list(small[1:]) == [2, 1] and small.sum() == 50
    with pytest.raises(ReviewerError, match="--budget"):
        interval_allocation([10, 10, 10], [0.5] * 3, 4)


def _population(items: int, sharp: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(score, harmful): harm ≈ 0.5 %, rising steeply with the score (sharp) or not at all."""
    z = rng.normal(0.0, 1.0, items)
    harmful = rng.random(items) < expit(-11.16 + 3.91 * z)
    score = expit(-6.6 + 1.6 * (z + rng.normal(0.0, 0.5, items)))
    return (score if sharp else rng.permutation(score)), harmful


@pytest.mark.parametrize("sharp", [True, False])
def test_budget_design_covers_and_beats_srs_in_simulation(sharp: bool) -> None:
    """Seeded: 2,000 draws of the chosen design on a 200k-item population. The printed
    interval covers the true share in ≥ 93 %; it is narrower than SRS's at the same budget
    when the score is informative, and at most 5 % wider when the score is noise."""
    rng = np.random.default_rng(5)
    score, harmful = _population(200_000, sharp, rng)
    budget, reps, truth = 400, 2000, float(harmful.mean())
    candidates, counts = [], []
    for level in CANDIDATE_QUANTILES:
        cuts = np.asarray(quantile_cuts(np.quantile(score, level)))
        band = np.searchsorted(cuts, score, side="right")
        big_n = np.bincount(band).astype(float)
        candidates.append((big_n, np.bincount(band, weights=score) / big_n))
        counts.append(np.bincount(band, weights=harmful).astype(int))
    best, labels = choose_bands(candidates, budget)
    big_n, positives = candidates[best][0], counts[best]

    def widths(sizes: np.ndarray, pos: np.ndarray, n: np.ndarray) -> tuple[float, float]:
        shape = (reps, len(sizes))
        k = rng.hypergeometric(np.broadcast_to(pos, shape),
                               np.broadcast_to((sizes - pos).astype(int), shape),
                               np.broadcast_to(n, shape))
        every = np.broadcast_to(n, shape)
        _, low, high, _, _ = ratio_arrays(StratumSums(np.broadcast_to(sizes, shape), every, k,
                                                      every))
        return float(np.mean(high - low)), float(np.mean((low <= truth) & (truth <= high)))

    ours, coverage = widths(big_n, positives, labels)
    srs, srs_coverage = widths(np.array([200_000.0]), np.array([harmful.sum()]),
                               np.array([budget]))
    assert coverage >= 0.93 and srs_coverage >= 0.93
    if sharp:
        assert ours < 0.8 * srs
    else:
        assert ours <= 1.05 * srs


def test_budget_plan_records_its_design_and_stats_report_the_target(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags, label
) -> None:
    add_samples(make_rows(200))
    set_flags([(f"s{i:05d}", "keyword") for i in range(120)])
    info = draw_budget_plan(audit, BudgetSpec("b", 30, "precision:keyword", seed=3))
    assert info.items == 30
    assert info.spec["allocation"] == "interval" and info.spec["target"] == "precision:keyword"
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

    def install(
        self: FlagViews, conn: duckdb.DuckDBPyConnection, settings: Settings,
        within: str | None = None, rowids: object = None, span: object = None,
    ) -> list[str]:  # a subset (``within``) may keep every fixture row
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
    level, cuts = info.spec["quantiles"], info.spec["bands"]
    assert tuple(level) in CANDIDATE_QUANTILES and len(cuts) >= 1
    # The stored cuts are the score's quantiles (numpy's linear rule = DuckDB quantile_cont).
    assert cuts == pytest.approx(list(np.quantile(values, level)), rel=1e-5)
    strata = audit.store.plans.strata("q").to_pylist()
    assert len(strata) == len(cuts) + 1
    assert all(row["population"] > 0 and row["drawn"] >= 2 for row in strata)
    assert sum(row["population"] for row in strata) == 2000
    assert sum(row["drawn"] for row in strata) == 100
    # The lowest band (nearly all the items, scores ≈ 0) is not the only one holding labels,
    # and the chosen bands predict a narrower interval than the other candidates'.
    assert max(row["population"] for row in strata) < 2000
    # A budget too small for 2 labels in each of 3+ bands takes ≤ 3 bands instead of failing.
    small = draw_budget_plan(audit, BudgetSpec("q5", 6, "prevalence", using="clip_nsfw"))
    assert small.items == 6 and len(small.spec["quantiles"]) <= 2
    assert len(audit.store.plans.strata("q5").to_pylist()) == len(small.spec["bands"]) + 1


def test_noise_score_costs_at_most_five_percent_more_labels() -> None:
    # If the score is noise every band has the same p, so the stratified variance is
    # p(1-p) Σ W_h²/n_h against SRS's p(1-p)/n (Cochran 1977, 5.6): the ratio is the
    # labels the design needs relative to SRS, computed here straight from the counts.
    populations = np.array([500_000, 300_000, 100_000, 50_000, 30_000, 10_000, 5_000, 4_000,
                            1_000], dtype=float)
    guesses = np.array([0.0003, 0.001, 0.002, 0.004, 0.008, 0.015, 0.03, 0.06, 0.3])
    budget = 2000
    weights = populations / populations.sum()
    pure = interval_allocation(populations, guesses, budget, noise_limit=None)
    guarded = interval_allocation(populations, guesses, budget, noise_limit=1.05)
    assert budget * np.sum(weights**2 / pure) > 1.1  # unguarded: a large penalty
    assert budget * np.sum(weights**2 / guarded) <= 1.05 + 0.01  # 0.01: integer rounding
    assert guarded.sum() == budget
    # Still leaning toward the high-score bands, not plain proportional allocation.
    assert guarded[-1] > 2 * budget * weights[-1]
    # Equal guesses (nothing to go on): exactly proportional, the mixing weight at 1.
    shares, lam = guarded_shares(populations, populations * 0.1)
    assert lam == 1.0 and np.allclose(shares, weights)
    # Equal common rates, where the floor is idle: proportional allocation.
    even = interval_allocation(populations, np.full(9, 0.3), budget, noise_limit=1.05)
    assert np.all(np.abs(even - np.maximum(2, budget * weights)) <= np.maximum(3, 0.01 * even))


def _budget_audit(audit: Audit, add_samples, make_rows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """600 items with a rare-harm clip_nsfw score on every one."""
    add_samples(make_rows(600))
    values = expit(np.random.default_rng(8).normal(-4.0, 1.5, 600))
    _scored_flags(monkeypatch, {f"s{i:05d}": float(v) for i, v in enumerate(values)})


def test_sample_budget_from_the_command_line_and_its_target_everywhere(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, monkeypatch, label, cli
) -> None:
    from rich.console import Console

    from reviewer.tui.screens.stats_screen import targets_panel

    _budget_audit(audit, add_samples, make_rows, monkeypatch)
    code, out, err = cli("sample", audit.root, "--name", "b", "--budget", "40", "--target",
                         "prevalence", "--using", "clip_nsfw", "--seed", "2")
    assert code == 0, err
    assert "plan b: 40 items" in out
    queue = audit.store.plans.queue_sample_ids("b")
    label(audit, [(s, "confirm" if i % 7 == 0 else "reject") for i, s in enumerate(queue)])
    code, out, err = cli("stats", audit.root, "--plan", "b", "--json")
    assert code == 0, err
    target = next(t for t in json.loads(out)["targets"] if t["target"] == "prevalence")
    assert set(target) == {"target", "estimate", "low", "high", "method", "labels",
                           "srs_equivalent_labels"}
    assert target["labels"] == 40 and target["low"] < target["estimate"] < target["high"]
    code, out, _ = cli("stats", audit.root, "--plan", "b")
    row = next(line for line in out.splitlines() if line.strip().startswith("prevalence"))
    assert "Targets (design-based)" in out and " 40 " in row
    assert f"method: {target['method']}"[:60] in " ".join(out.split())
    assert f"{target['srs_equivalent_labels']:,}" in row.split()[-1]
    stats = compute_stats(audit, plan="b")
    console = Console(width=140, record=True)
    console.print(targets_panel(stats))
    shown = console.export_text()
    assert "prevalence" in shown and f"{target['srs_equivalent_labels']:,}" in shown
    # The same target in the Markdown report and the notebook API.
    report = audit.root / "r.md"
    code, _, err = cli("report", audit.root, "--plan", "b", "--out", report)
    assert code == 0, err
    row = next(line for line in report.read_text().splitlines()
               if line.startswith("| prevalence"))
    assert f"| {target['srs_equivalent_labels']:,} |" in row and "| 40 |" in row
    assert "Targets and label budgets" in report.read_text()
    frame = reviewer.open_audit(audit.root).targets(plan="b").set_index("target")
    assert frame.loc["prevalence", "srs_equivalent_labels"] == target["srs_equivalent_labels"]
    assert frame.loc["prevalence", "low"] == pytest.approx(target["low"])


@pytest.mark.parametrize(("args", "message"), [
    (["--budget", "1", "--target", "prevalence", "--using", "clip_nsfw"],
     "--budget 1: must be between 2"),
    (["--budget", "40", "--target", "recall", "--using", "clip_nsfw"], "unknown target"),
    (["--budget", "40"], "--budget needs --target"),
    (["--target", "prevalence"], "--target and --using need --budget"),
    (["--budget", "40", "--target", "prevalence"], "needs --using"),
    (["--budget", "40", "--target", "prevalence", "--using", "nope"],
     "--using nope: unknown flag 'nope'"),
    (["--budget", "40", "--target", "precision:no_such"], "--target precision:no_such: unknown"),
    (["--budget", "40", "--target", "prevalence", "--using", "hate_hateful"],
     "no complete flag run provides"),
    (["--budget", "40", "--target", "precision:keyword"], "no complete flag run provides"),
    (["--budget", "40", "--target", "precision:keyword", "--using", "clip_nsfw"],
     "--target precision:keyword: no item raises that flag"),
])
def test_sample_budget_bad_input_is_one_line_and_draws_nothing(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, monkeypatch, cli, args, message
) -> None:
    _budget_audit(audit, add_samples, make_rows, monkeypatch)
    code, out, err = cli("sample", audit.root, "--name", "b", *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err + out
    assert audit.store.plans.all() == []
