"""Confidence intervals for a binomial proportion: the one function everything uses.

Precision of a filter, a hate content rate, a share of confirmed items: each is
k successes out of n, and each is reported with an interval from here so the
methods and the edge cases (0/n, n/n) are handled once. The numerics come from
statsmodels' ``proportion_confint``; this wrapper adds the conventions that
matter at the edges (Brown, Cai & DasGupta 2001): at k = 0 the lower bound is
exactly 0 and at k = n the upper bound exactly 1, for every method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from statsmodels.stats.proportion import proportion_confint

from reviewer.errors import ReviewerError

METHODS = {
    "wilson": "wilson",
    "wilson-cc": "wilson-cc",
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
        method: ``wilson``, ``wilson-cc`` (with continuity correction),
            ``clopper-pearson``, ``agresti-coull`` or ``jeffreys``.
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
    if method == "wilson-cc":
        low, high = wilson_cc(k, n, confidence)
    else:
        low, high = proportion_confint(k, n, alpha=1 - confidence, method=METHODS[method])
    low, high = max(0.0, float(low)), min(1.0, float(high))
    if k == 0:
        low = 0.0
    if k == n:
        high = 1.0
    return Proportion(k, n, k / n, low, high, method, confidence)


def wilson_cc(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval with continuity correction (Newcombe 1998, method 4).

    Written here because statsmodels' ``proportion_confint`` has no continuity-corrected
    score interval; the formula is Newcombe's closed form, tested on his worked examples.
    """
    from scipy.stats import norm

    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p = k / n
    denominator = 2 * (n + z * z)
    low = (2 * n * p + z * z - 1
           - z * math.sqrt(max(z * z - 2 - 1 / n + 4 * p * (n * (1 - p) + 1), 0.0)))
    high = (2 * n * p + z * z + 1
            + z * math.sqrt(max(z * z + 2 - 1 / n + 4 * p * (n * (1 - p) - 1), 0.0)))
    return (0.0 if k == 0 else max(0.0, low / denominator),
            1.0 if k == n else min(1.0, high / denominator))
