"""Confidence intervals for a binomial proportion: the one function everything uses.

Precision of a filter, a hate content rate, a share of confirmed items: each is
k successes out of n, and each is reported with an interval from here so the
methods and the edge cases (0/n, n/n) are handled once. The numerics come from
statsmodels' ``proportion_confint``; this wrapper adds the conventions that
matter at the edges (Brown, Cai & DasGupta 2001): at k = 0 the lower bound is
exactly 0 and at k = n the upper bound exactly 1, for every method.
"""

from __future__ import annotations

from dataclasses import dataclass

from statsmodels.stats.proportion import proportion_confint

from reviewer.errors import ReviewerError

METHODS = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
    "jeffreys": "jeffreys",
}


@dataclass(frozen=True)
class Proportion:
    """k out of n with a confidence interval."""

    k: int
    n: int
    estimate: float | None
    low: float | None
    high: float | None
    method: str
    confidence: float

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON output."""
        return {
            "k": self.k,
            "n": self.n,
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "method": self.method,
            "confidence": self.confidence,
        }


def proportion_ci(k: int, n: int, method: str = "wilson", confidence: float = 0.95) -> Proportion:
    """The proportion k/n with a two-sided confidence interval.

    Args:
        k: Successes (0 <= k <= n).
        n: Trials. With n = 0 the estimate and bounds are ``None``: there is no data,
            and printing NaN would hide that.
        method: ``wilson``, ``clopper-pearson``, ``agresti-coull`` or ``jeffreys``.
        confidence: Two-sided confidence level, e.g. 0.95.
    """
    if method not in METHODS:
        raise ReviewerError(
            f"unknown interval method '{method}'", f"use one of {', '.join(METHODS)}"
        )
    if not 0 < confidence < 1:
        raise ReviewerError(f"confidence {confidence} must be between 0 and 1")
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Proportion(k, n, None, None, None, method, confidence)
    low, high = proportion_confint(k, n, alpha=1 - confidence, method=METHODS[method])
    low, high = max(0.0, float(low)), min(1.0, float(high))
    if k == 0:
        low = 0.0
    if k == n:
        high = 1.0
    return Proportion(k, n, k / n, low, high, method, confidence)
