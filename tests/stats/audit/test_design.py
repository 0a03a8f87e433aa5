"""The design-based estimator against an independent computation, and its intervals by simulation.

The reference implementation here works on one row per labelled item (weights
N_h/m_h, Hájek ratio, Taylor-linearised variance, Korn–Graubard interval written
from the formulas in Korn & Graubard 1998 and R's ``svyciprop(method="beta")``);
the code under test works on per-stratum sums, vectorised.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from reviewer.stats.design import StratumSums, ratio_arrays, ratio_estimate
from reviewer.stats.design_agreement import WeightedTable, weighted_coefficients


def _reference(strata: dict[str, tuple[int, list[int], list[int]]], confidence: float = 0.95):
    """Hájek ratio and linearised SE from item rows: {stratum: (N_h, a_i list, b_i list)}."""
    rows = [(h, n_pop, a, b) for h, (n_pop, a_list, b_list) in strata.items()
            for a, b in zip(a_list, b_list, strict=True)]
    m = {h: len(v[1]) for h, v in strata.items()}
    w = np.array([n_pop / m[h] for h, n_pop, _, _ in rows])
    a = np.array([r[2] for r in rows], float)
    b = np.array([r[3] for r in rows], float)
    ratio = (w * a).sum() / (w * b).sum()
    variance = 0.0
    for h, (n_pop, a_list, b_list) in strata.items():
        e = np.array(a_list, float) - ratio * np.array(b_list, float)
        variance += n_pop**2 * (1 - m[h] / n_pop) * e.var(ddof=1) / m[h]
    variance /= (w * b).sum() ** 2
    return ratio, math.sqrt(variance)


def _sums(strata: dict[str, tuple[int, list[int], list[int]]]) -> StratumSums:
    return StratumSums(np.array([v[0] for v in strata.values()]),
                       np.array([len(v[1]) for v in strata.values()]),
                       np.array([sum(v[1]) for v in strata.values()]),
                       np.array([sum(v[2]) for v in strata.values()]))


DESIGNS = {
    # Cochran-style two strata, shares near one half (the floor does not bind).
    "two strata": {"A": (1000, [1] * 3 + [0] * 7, [1] * 10),
                   "B": (9000, [1] * 8 + [0] * 12, [1] * 20)},
    # Precision of a flag that covers one stratum wholly and another partly.
    "partial domain": {"F": (500, [1] * 6 + [0] * 6, [1] * 12),
                       "G": (4000, [1] * 4 + [0] * 4 + [0] * 8, [1] * 8 + [0] * 8),
                       "U": (20000, [0] * 10, [0] * 10)},
    # Unequal sizes and a nearly-census stratum.
    "near census": {"big": (100_000, [1] * 15 + [0] * 25, [1] * 40),
                    "small": (12, [1] * 5 + [0] * 5, [1] * 10),
                    "mid": (700, [1] * 9 + [0] * 11, [1] * 20)},
}


@pytest.mark.parametrize("name", DESIGNS)
def test_estimate_and_se_equal_an_independent_taylor_computation(name: str) -> None:
    design = DESIGNS[name]
    ratio, se = _reference(design)
    est = ratio_estimate(list(design), _sums(design))
    assert est.estimate == pytest.approx(ratio, rel=1e-12)
    assert est.se == pytest.approx(se, rel=1e-9)
    # Korn–Graubard: Clopper–Pearson at n* = p̃(1 − p̃)/V · (t_{n−1}/t_{n−H})², x* = p̂ n*,
    # p̃ the ratio of add-half stratum shares.
    sums = _sums(design)
    w = sums.population / sums.labelled
    tilde = (sums.a + 0.5) / (sums.b + 1)
    smooth_p = float((w * sums.b * tilde).sum() / (w * sums.b).sum())
    n_units, n_strata = int(sums.labelled.sum()), len(design)
    n_star = smooth_p * (1 - smooth_p) / se**2
    n_star *= (sps.t.ppf(0.025, n_units - 1) / sps.t.ppf(0.025, n_units - n_strata)) ** 2
    x = ratio * n_star
    assert est.low == pytest.approx(sps.beta.ppf(0.025, x, n_star - x + 1), rel=1e-9)
    assert est.high == pytest.approx(sps.beta.ppf(0.975, x + 1, n_star - x), rel=1e-9)


def test_issue_example_no_longer_collapses_to_a_point() -> None:
    # 28,321 flagged items, 131 labels; strata N/labels/positives as reported in issue 11.
    sums = StratumSums(np.array([19337, 4881, 5, 4098]), np.array([43, 71, 5, 12]),
                       np.array([0, 71, 0, 0]), np.array([43, 71, 5, 12]))
    est = ratio_estimate(["a", "b", "c", "d"], sums)
    assert est.estimate == pytest.approx(4881 / 28321)
    assert est.low is not None and est.high is not None
    assert est.high - est.low > 0.05
    assert est.low < 4881 / 28321 < est.high


def test_one_label_and_zero_label_strata_add_uncertainty_and_say_so() -> None:
    one = ratio_estimate(["big", "small"], StratumSums(
        np.array([96_600, 3_400]), np.array([1, 50]), np.array([1, 10]), np.array([1, 50])))
    assert one.high is not None and one.low is not None and one.high - one.low > 0.3
    assert any("one label" in n and "big" in n for n in one.notes)
    missing = ratio_estimate(["a", "b"], StratumSums(
        np.array([1000, 1000]), np.array([50, 0]), np.array([25, 0]), np.array([50, 0])))
    # Stratum b is unknown: the interval must allow it to be all 0 or all 1.
    assert missing.low is not None and missing.high is not None
    assert missing.low <= 0.25 and missing.high >= 0.75
    assert any("without labels" in n and "b" in n for n in missing.notes)


def test_zero_width_only_for_a_census() -> None:
    census = ratio_estimate(["a", "b"], StratumSums(
        np.array([10, 5]), np.array([10, 5]), np.array([3, 5]), np.array([10, 5])))
    assert census.low == census.high == pytest.approx(8 / 15)
    almost = ratio_estimate(["a", "b"], StratumSums(
        np.array([11, 5]), np.array([10, 5]), np.array([3, 5]), np.array([10, 5])))
    assert almost.low is not None and almost.high is not None and almost.high > almost.low


def test_design_intervals_cover_at_the_nominal_level() -> None:
    """Seeded, vectorised: every (p, labels per stratum, strata) cell covers ≥ 93%."""
    rng = np.random.default_rng(20261201)
    sizes = np.array([1_000_000, 20_000, 2_000, 300, 120])
    reps = 1000
    worst = 1.0
    for p, per, strata in itertools.product([0.02, 0.1, 0.5, 0.9, 0.98], [1, 3, 10, 30, 100],
                                            [2, 3, 4, 5]):
        big_n = sizes[:strata]
        positives = np.round(p * big_n).astype(int)
        m = np.minimum(per, big_n)
        shape = (reps, strata)
        k = rng.hypergeometric(np.broadcast_to(positives, shape),
                               np.broadcast_to(big_n - positives, shape),
                               np.broadcast_to(m, shape))
        sums = StratumSums(np.broadcast_to(big_n, shape), np.broadcast_to(m, shape), k,
                           np.broadcast_to(m, shape))
        _, low, high, _, _ = ratio_arrays(sums)
        truth = positives.sum() / big_n.sum()
        covered = float(np.mean((low <= truth + 1e-12) & (truth - 1e-12 <= high)))
        worst = min(worst, covered)
        assert covered >= 0.93, (p, per, strata, covered)
        assert np.all(high > low), (p, per, strata)  # no census here: never zero width
    assert worst < 0.99  # the check can fail: intervals are not trivially [0, 1]


def _tag_stratified_sample() -> WeightedTable:
    """Issue 11, point 2: 9,000 UNLIKELY (5% harmful), 900 UNSURE (40%), 100 NSFW (90%),
    100 labelled per tag level with exactly the population's shares."""
    stratum, human, tag = [], [], []
    for h, harmful in enumerate((5, 40, 90)):
        stratum += [h] * 100
        human += [1] * harmful + [0] * (100 - harmful)
        tag += [int(h == 2)] * 100
    return WeightedTable(np.array(stratum), np.array(human), np.array(tag),
                         np.array([9000, 900, 100]), 2)


def test_tag_stratified_kappa_interval_contains_the_population_value() -> None:
    # Population 2×2 (human benign/harmful × tag below NSFW / NSFW):
    # benign: 8550 + 540 = 9090 | 10; harmful: 450 + 360 = 810 | 90.
    p = np.array([[9090, 10], [810, 90]]) / 10_000
    rows, cols = p.sum(1), p.sum(0)
    p_o = np.trace(p)
    kappa = (p_o - rows @ cols) / (1 - rows @ cols)
    pi = (rows + cols) / 2
    pe_ac1 = float((pi * (1 - pi)).sum())
    ac1 = (p_o - pe_ac1) / (1 - pe_ac1)
    assert kappa == pytest.approx(0.165, abs=5e-4)  # the issue's population value
    est = weighted_coefficients(_tag_stratified_sample())
    assert est["cohen_kappa"].value == pytest.approx(kappa)
    assert est["cohen_kappa"].low < kappa < est["cohen_kappa"].high
    assert est["cohen_kappa"].high < 0.4  # far from the unweighted 0.633
    assert est["gwet_ac1"].value == pytest.approx(ac1)
    assert est["gwet_ac1"].low < ac1 < est["gwet_ac1"].high
    assert est["percent_agreement"].value == pytest.approx(p_o)
    assert est["pabak"].value == pytest.approx(2 * p_o - 1)


def test_a_constant_rater_is_uninformative_not_zero() -> None:
    data = WeightedTable(np.zeros(10, int), np.array([0, 1] * 5), np.zeros(10, int),
                         np.array([100]), 2)
    kappa = weighted_coefficients(data)["cohen_kappa"]
    assert kappa.value is None and kappa.note is not None and "uninformative" in kappa.note


def test_strata_whose_labels_all_agree_still_leave_the_coefficients_uncertain() -> None:
    """Every UNLIKELY item benign, every NSFW item harmful: the jackknife sees no spread,
    yet 20 labels per stratum cannot prove perfect agreement in 9,100 items."""
    stratum = np.repeat([0, 1], 20)
    human = np.repeat([0, 1], 20)
    data = WeightedTable(stratum, human, human.copy(), np.array([9000, 100]), 2)
    est = weighted_coefficients(data)
    for name in ("cohen_kappa", "gwet_ac1"):
        assert est[name].value == pytest.approx(1.0)
        assert est[name].low is not None and est[name].low < 0.95, name
