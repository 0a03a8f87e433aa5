"""Every coefficient against numbers printed in the literature, never against our own output."""

from __future__ import annotations

import pytest

from reviewer.stats.agreement import (
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    pabak,
    percent_agreement,
)

from .published import (
    FLEISS_WIKIPEDIA,
    GWET_5_OBSERVERS,
    KRIPPENDORFF_2011,
    counts_to_triples,
    matrix_to_triples,
    table_to_triples,
)

# SAS/STAT PROC FREQ printout of a 3 × 3 agreement table, reproduced in statsmodels'
# test suite (statsmodels/stats/tests/test_inter_rater.py, ``table10``).
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
# Gwet (2014), Handbook of Inter-Rater Reliability, dataset ``cont3x3abstractors``:
# 100 pregnancies classified Ectopic / AIU / NIU by two abstractors.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_fleiss_wikipedia_example() -> None:
    """Fleiss (1971) via Wikipedia's worked example: P̄ = 0.378, P̄e = 0.213, κ = 0.210."""
    estimate = fleiss_kappa(counts_to_triples(FLEISS_WIKIPEDIA))
    assert estimate.value == pytest.approx(0.210, abs=5e-4)
    assert estimate.n_items == 10
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 0.210 < estimate.high


def test_fleiss_wikipedia_percent_agreement() -> None:
    """Same example: the mean pairwise agreement P̄ is 0.378."""
    estimate = percent_agreement(counts_to_triples(FLEISS_WIKIPEDIA))
    assert estimate.value == pytest.approx(0.378, abs=5e-4)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)],
)
def test_krippendorff_2011_alpha_with_missing_values(level: str, published: float) -> None:
    """Krippendorff (2011), 4 observers × 12 units with missing values: α nominal 0.743,
    ordinal 0.815, interval 0.849 (unit 12 has one value and is not pairable)."""
    estimate = krippendorff_alpha(matrix_to_triples(KRIPPENDORFF_2011), level=level)
    assert estimate.value == pytest.approx(published, abs=5e-4)
    assert estimate.n_items == 11
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low <= estimate.value <= estimate.high


def test_gwet_ac1_on_krippendorff_data() -> None:
    """Gwet's irrCAC output for ``cac.raw4raters`` (Gwet 2014): p_a 0.818, AC1 0.775,
    SE 0.143, 95% CI (0.461, 1)."""
    estimate = gwet_ac1(matrix_to_triples(KRIPPENDORFF_2011))
    assert estimate.value == pytest.approx(0.775, abs=5e-4)
    assert estimate.se == pytest.approx(0.143, abs=5e-4)
    assert estimate.low == pytest.approx(0.461, abs=5e-4)
    assert estimate.high == 1.0


def test_fleiss_kappa_generalised_to_missing_ratings() -> None:
    """Gwet's irrCAC output for ``cac.raw4raters``: Fleiss' κ 0.761, 95% CI (0.424, 1),
    p_a 0.818 (items rated by different numbers of raters)."""
    triples = matrix_to_triples(KRIPPENDORFF_2011)
    estimate = fleiss_kappa(triples)
    assert estimate.value == pytest.approx(0.761, abs=5e-4)
    assert estimate.low == pytest.approx(0.424, abs=5e-4)
    assert estimate.high == 1.0
    assert percent_agreement(triples).value == pytest.approx(0.818, abs=5e-4)


def test_gwet_five_observers_unequal_ratings() -> None:
    """Gwet's irrCAC output for ``cac.raw5obser`` (2 to 5 ratings per unit): p_a 0.616;
    AC1 0.497, SE 0.122, CI (0.235, 0.758); Fleiss' κ 0.458, SE 0.120, CI (0.199, 0.716)."""
    triples = matrix_to_triples(GWET_5_OBSERVERS)
    assert percent_agreement(triples).value == pytest.approx(0.616, abs=5e-4)
    ac1 = gwet_ac1(triples)
    assert (ac1.value, ac1.se, ac1.low, ac1.high) == pytest.approx(
        (0.497, 0.122, 0.235, 0.758), abs=5e-4
    )
    fleiss = fleiss_kappa(triples)
    assert (fleiss.value, fleiss.se, fleiss.low, fleiss.high) == pytest.approx(
        (0.458, 0.120, 0.199, 0.716), abs=5e-4
    )


def test_two_rater_ac1_and_scott_pi_gwet_handbook() -> None:
    """Gwet (2014) ``cont3x3abstractors``: AC1 0.849; Scott's π 0.7962 (which is Fleiss' κ
    for two raters)."""
    triples = table_to_triples(ABSTRACTORS, ["Ectopic", "AIU", "NIU"])
    assert gwet_ac1(triples).value == pytest.approx(0.849, abs=5e-4)
    assert fleiss_kappa(triples).value == pytest.approx(0.7962, abs=5e-5)


def test_cohen_kappa_with_asymptotic_se_sas() -> None:
    """SAS PROC FREQ simple kappa for ``table10``: κ 0.4842, ASE 0.1380, 95% CL (0.2137, 0.7547)."""
    estimate = cohen_kappa(table_to_triples(SAS_TABLE, ["a", "b", "c"]))
    assert estimate.value == pytest.approx(0.4842, abs=5e-5)
    assert estimate.se == pytest.approx(0.1380, abs=5e-5)
    assert estimate.low == pytest.approx(0.2137, abs=5e-5)
    assert estimate.high == pytest.approx(0.7547, abs=5e-5)


def test_weighted_kappa_linear_sas() -> None:
    """SAS PROC FREQ weighted kappa (Cicchetti–Allison = linear weights) for ``table10``:
    0.4701, ASE 0.1457, 95% CL (0.1845, 0.7558)."""
    triples = table_to_triples(SAS_TABLE, [1, 2, 3])
    estimate = cohen_kappa(triples, weights="linear")
    assert estimate.value == pytest.approx(0.4701, abs=5e-5)
    assert estimate.se == pytest.approx(0.1457, abs=5e-5)
    assert estimate.low == pytest.approx(0.1845, abs=5e-5)
    assert estimate.high == pytest.approx(0.7558, abs=5e-5)


def test_weighted_kappa_gwet_handbook() -> None:
    """Gwet (2014) ``cont3x3abstractors``: Cohen's κ 0.796 (SE 0.0589), linear weighted
    0.843, quadratic weighted 0.892. Text categories take their order from ``order``."""
    order = ["Ectopic", "AIU", "NIU"]
    triples = table_to_triples(ABSTRACTORS, order)
    plain = cohen_kappa(triples)
    assert plain.value == pytest.approx(0.7964, abs=5e-5)
    assert plain.se == pytest.approx(0.0589, abs=5e-5)
    linear = cohen_kappa(triples, weights="linear", order=order)
    assert linear.value == pytest.approx(0.843, abs=5e-4)
    quadratic = cohen_kappa(triples, weights="quadratic", order=order)
    assert quadratic.value == pytest.approx(0.892, abs=5e-4)
    # Brennan–Prediger (= PABAK for 3 categories) on the same table: 0.835 (Gwet 2014).
    assert pabak(triples).value == pytest.approx(0.835, abs=5e-4)


def test_cohen_kappa_wikipedia_example() -> None:
    """Wikipedia "Cohen's kappa", first example: 50 proposals, yes/yes 20, yes/no 5,
    no/yes 10, no/no 15: p_o = 0.7, p_e = 0.5, κ = 0.4."""
    triples = table_to_triples([[20, 5], [10, 15]], ["yes", "no"])
    assert cohen_kappa(triples).value == pytest.approx(0.4)
    assert percent_agreement(triples).value == pytest.approx(0.7)


def test_kappa_paradox_feinstein_cicchetti() -> None:
    """Feinstein & Cicchetti (1990), "High agreement but low kappa", table with
    a=80, b=10, c=5, d=5: p_o = 0.85 yet κ = 0.32.

    AC1 by hand from Gwet (2008): π = (0.90 + 0.85)/2 = 0.875, p_e = 2·0.875·0.125 =
    0.21875, AC1 = (0.85 − 0.21875)/(1 − 0.21875) = 0.808. PABAK = 2·0.85 − 1 = 0.70.
    """
    triples = table_to_triples([[80, 10], [5, 5]], ["present", "absent"])
    kappa = cohen_kappa(triples)
    assert kappa.value == pytest.approx(0.32, abs=5e-3)
    assert percent_agreement(triples).value == pytest.approx(0.85)
    ac1 = gwet_ac1(triples)
    assert ac1.value == pytest.approx(0.808, abs=5e-4)
    assert pabak(triples).value == pytest.approx(0.70)
    assert ac1.value is not None and kappa.value is not None and ac1.value > 2 * kappa.value


def test_kappa_paradox_balanced_table_agrees() -> None:
    """Feinstein & Cicchetti (1990), the balanced twin: a=40, b=9, c=6, d=45 has the same
    p_o = 0.85 and κ = 0.70, so κ moves with prevalence while p_o does not."""
    triples = table_to_triples([[40, 9], [6, 45]], ["present", "absent"])
    assert cohen_kappa(triples).value == pytest.approx(0.70, abs=5e-3)
    assert percent_agreement(triples).value == pytest.approx(0.85)


def test_weighted_kappa_at_interval_level_weighs_value_differences() -> None:
    """Values 1, 2, 10: at interval level a 1-vs-2 disagreement costs 1/9 of a 1-vs-10 one;
    ranks would make it 1/2 (issue 11). Reference: κ_w = 1 − Σ w·p_obs / Σ w·p_exp, computed
    here from the formula with w_ij = |v_i − v_j| (linear) or its square (quadratic)."""
    import numpy as np

    a = [1, 1, 2, 2, 10, 10, 1, 2, 10, 1, 2, 10]
    b = [1, 2, 2, 1, 10, 2, 1, 2, 10, 10, 1, 10]
    triples = [(f"i{i}", r, v) for i, (x, y) in enumerate(zip(a, b, strict=True))
               for r, v in (("a", x), ("b", y))]
    summary = agreement_summary(triples, level="interval", n_boot=10)
    values = np.array([1.0, 2.0, 10.0])
    index = {1: 0, 2: 1, 10: 2}
    table = np.zeros((3, 3))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    p = table / table.sum()
    expected = np.outer(p.sum(1), p.sum(0))
    for name, power in (("linear", 1), ("quadratic", 2)):
        w = np.abs(values[:, None] - values[None, :]) ** power
        reference = 1 - (w * p).sum() / (w * expected).sum()
        assert summary.weighted[name].value == pytest.approx(reference)
    ordinal = agreement_summary(triples, level="ordinal", n_boot=10)
    assert ordinal.weighted["linear"].value != pytest.approx(summary.weighted["linear"].value)


ANXIETY = {  # R package irr, data(anxiety), columns rater2 and rater3: 20 subjects, 1 to 6
    "rater2": [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    "rater3": [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
}


def test_weighted_kappa_on_irr_anxiety_uses_values_at_interval_level() -> None:
    """irr's anxiety data, raters 2 and 3 (issue 11): neither used 5, so the categories are
    1, 2, 3, 4, 6 and ranks differ from values. Linear weighted κ on the values is 0.1262;
    on ranks (what irr::kappa2(anxiety[, 2:3], "equal") computes, factor levels) 0.1459."""
    a, b = ANXIETY["rater2"], ANXIETY["rater3"]
    triples = [(f"s{i}", r, v) for i, (x, y) in enumerate(zip(a, b, strict=True))
               for r, v in (("rater2", x), ("rater3", y))]
    interval = agreement_summary(triples, level="interval", n_boot=10)
    ordinal = agreement_summary(triples, level="ordinal", n_boot=10)
    assert interval.weighted["linear"].value == pytest.approx(0.1262, abs=5e-5)
    assert ordinal.weighted["linear"].value == pytest.approx(0.1459, abs=5e-5)
