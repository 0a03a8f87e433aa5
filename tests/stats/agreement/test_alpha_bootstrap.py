"""The coincidence-matrix α used by the bootstrap matches the ``krippendorff`` package."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.stats import alpha
from reviewer.stats.agreement import krippendorff_alpha

from .published import KRIPPENDORFF_2011, matrix_to_triples


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    level=st.sampled_from(["nominal", "ordinal", "interval"]),
    q=st.integers(2, 5),
)
def test_own_alpha_matches_package(seed: int, level: str, q: int) -> None:
    """Random count matrices (2-4 ratings per item): our α equals the package's α, so the
    bootstrap resamples the same statistic that is reported."""
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(3, 30))
    counts = np.zeros((n_items, q))
    for i in range(n_items):
        for k in rng.integers(0, q, size=int(rng.integers(2, 5))):
            counts[i, k] += 1
    scale = np.sort(rng.choice(np.arange(1, 20), size=q, replace=False)).astype(float)
    patterns, freq = np.unique(counts, axis=0, return_counts=True)
    ours = alpha._alpha(alpha._coincidences(patterns).T @ freq, level, scale)
    theirs = krippendorff.alpha(
        value_counts=counts, value_domain=list(scale), level_of_measurement=level
    )
    if ours is None:
        assert np.isnan(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_bootstrap_is_reproducible_and_seeded() -> None:
    """The same seed gives the same interval; another seed a different one."""
    triples = matrix_to_triples(KRIPPENDORFF_2011)
    first = krippendorff_alpha(triples, seed=7, n_boot=400)
    again = krippendorff_alpha(triples, seed=7, n_boot=400)
    other = krippendorff_alpha(triples, seed=8, n_boot=400)
    assert (first.low, first.high) == (again.low, again.high)
    assert (first.low, first.high) != (other.low, other.high)
    assert "seed 7" in first.ci_method


def test_no_bootstrap_means_no_interval() -> None:
    """n_boot = 0: the value without an interval."""
    estimate = krippendorff_alpha(matrix_to_triples(KRIPPENDORFF_2011), n_boot=0)
    assert estimate.value == pytest.approx(0.743, abs=5e-4)
    assert estimate.low is None and estimate.high is None
