"""Coefficients that cannot exist say why, instead of returning NaN."""

from __future__ import annotations

import math

import pytest

from reviewer.stats.agreement import (
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    pabak,
    pairwise_cohen,
    percent_agreement,
)

from .published import table_to_triples


def test_all_labels_identical_makes_kappa_undefined() -> None:
    """Both raters say 'benign' for everything: p_e = 1, κ = 0/0, α's D_e = 0."""
    triples = table_to_triples([[12]], ["benign"])
    for estimate in (cohen_kappa(triples), fleiss_kappa(triples), krippendorff_alpha(triples)):
        assert estimate.value is None
        assert estimate.note and "undefined" in estimate.note
    assert percent_agreement(triples).value == 1.0


def test_identical_labels_on_declared_binary_scale() -> None:
    """With the scale declared (order), PABAK and AC1 exist though κ does not."""
    triples = table_to_triples([[12, 0], [0, 0]], ["benign", "harmful"])
    summary = agreement_summary(triples, order=["benign", "harmful"])
    assert summary.cohen_kappa.value is None
    assert summary.pabak.value == pytest.approx(1.0)
    assert summary.gwet_ac1.value == pytest.approx(1.0)


def test_one_rater_only() -> None:
    """A single rater: nothing to agree with; every coefficient is None with the reason."""
    triples = [(i, "ann", "yes" if i % 2 else "no") for i in range(6)]
    summary = agreement_summary(triples)
    assert summary.n_raters == 1
    for estimate in summary.estimates:
        assert estimate.value is None
        assert estimate.note


def test_cohen_needs_exactly_two_raters() -> None:
    """Three raters: Cohen's κ is None and points to the multi-rater coefficients."""
    triples = [(i, r, "a" if (i + k) % 3 else "b") for i in range(9) for k, r in enumerate("xyz")]
    estimate = cohen_kappa(triples)
    assert estimate.value is None
    assert estimate.note is not None and "two raters" in estimate.note
    assert fleiss_kappa(triples).value is not None


def test_items_rated_once_are_counted_and_left_out_of_pairs() -> None:
    """Rater B skipped two items: they are counted and κ uses the 4 shared items only."""
    triples = [
        (1, "A", "y"),
        (1, "B", "y"),
        (2, "A", "n"),
        (2, "B", "n"),
        (3, "A", "y"),
        (3, "B", "n"),
        (4, "A", "n"),
        (4, "B", "n"),
        (5, "A", "y"),
        (6, "A", "n"),
    ]
    summary = agreement_summary(triples)
    assert summary.n_items == 6
    assert summary.n_single_rated == 2
    assert summary.cohen_kappa.n_items == 4
    assert summary.percent_agreement.value == pytest.approx(3 / 4)
    assert summary.krippendorff_alpha.n_items == 4


def test_no_item_rated_twice() -> None:
    """Two raters who never rated the same item: nothing is pairable."""
    triples = [(1, "A", "y"), (2, "B", "n"), (3, "A", "n"), (4, "B", "y")]
    summary = agreement_summary(triples)
    for estimate in (
        summary.cohen_kappa,
        summary.fleiss_kappa,
        summary.gwet_ac1,
        summary.krippendorff_alpha,
        summary.percent_agreement,
    ):
        assert estimate.value is None
        assert estimate.note


def test_pabak_generalises_to_k_categories() -> None:
    """Three categories: PABAK is Brennan–Prediger's (q·p_o − 1)/(q − 1), not undefined
    (issue 11); one category: undefined, said in words."""
    triples = table_to_triples([[3, 1, 0], [0, 4, 1], [1, 0, 5]], ["a", "b", "c"])
    estimate = pabak(triples)
    p_o = 12 / 15
    assert estimate.value == pytest.approx((3 * p_o - 1) / 2)
    assert estimate.low is not None and estimate.low < estimate.value < estimate.high
    one = pabak([(i, r, "x") for i in range(4) for r in ("A", "B")])
    assert one.value is None and one.note is not None and "one" in one.note


def test_pairwise_cohen_names_pairs() -> None:
    """Three raters: one κ per pair that shares items; the pair without overlap is absent."""
    triples = [(i, "A", i % 2) for i in range(10)] + [(i, "B", (i // 2) % 2) for i in range(10)]
    triples += [(i, "C", i % 2) for i in range(10, 14)] + [(i, "A", 0) for i in range(10, 14)]
    pairs = pairwise_cohen(triples)
    assert [(p.rater_a, p.rater_b, p.n_shared) for p in pairs] == [("A", "B", 10), ("A", "C", 4)]


def test_no_nan_anywhere_in_json() -> None:
    """The JSON document holds numbers or null, never NaN, even for degenerate data."""
    triples = table_to_triples([[5]], ["x"])
    document = agreement_summary(triples).as_json()

    def walk(value: object) -> None:
        if isinstance(value, float):
            assert not math.isnan(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(document)
    assert document["cohen_kappa"] is None
    assert gwet_ac1(triples).value is None


def test_summary_reports_progress_per_statistic() -> None:
    """The CLI's bar gets one call per statistic, ending at the total (8 with weighted κ)."""
    calls: list[tuple[int, int | None]] = []
    triples = table_to_triples([[3, 1, 0], [0, 4, 1], [1, 0, 5]], [1, 2, 3])
    summary = agreement_summary(
        triples, level="ordinal", progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(i, 8) for i in range(1, 9)]
    assert set(summary.weighted) == {"linear", "quadratic"}
