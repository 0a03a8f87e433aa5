"""Multi-rater agreement from an item × category count matrix: Fleiss' κ, Gwet's AC1, p_a.

These coefficients share one frame (Gwet 2008, BJMSP 61:29–48; Gwet 2014,
*Handbook of Inter-Rater Reliability*, ch. 2 and 5): the observed agreement
p_a is averaged over items with at least two ratings; the category shares π_k
are averaged over all items (so items rated once still inform chance
agreement); and each coefficient is (p_a − p_e)/(1 − p_e) with its own p_e:

- Fleiss' κ (Fleiss 1971): p_e = Σ π_k². With the same number of ratings per item
  this is exactly Fleiss' statistic and the point estimate comes from statsmodels'
  ``fleiss_kappa``; with unequal numbers it is Gwet's generalisation.
- Gwet's AC1: p_e = Σ π_k (1 − π_k) / (q − 1), which stays small when one category
  dominates, so AC1 does not collapse when harmful items are rare (the kappa paradox).

statsmodels gives no variance for either and nothing for AC1, so this module
writes Gwet's linearisation variance (Gwet 2008, eq. for the generalised π and
AC1), which does not assume independent raters: var = Σ_i (c*_i − c)² / (n(n − 1)),
with the t(n − 1) interval Gwet's irrCAC package prints. The tests check the
numbers against Gwet's published output for Krippendorff's 4-rater data.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from reviewer.stats.coefficient import Estimate, t_interval, undefined

GWET_VAR = "Gwet (2008) linearisation variance, t(n−1) interval"


class _Parts:
    """Per-item pieces every coefficient of the frame needs.

    Args:
        counts: Item × category counts; items without any rating are ignored.
    """

    def __init__(self, counts: np.ndarray) -> None:
        counts = np.asarray(counts, dtype=float)
        r = counts.sum(1)
        counts, r = counts[r > 0], r[r > 0]
        self.counts, self.r = counts, r
        self.n = counts.shape[0]
        self.q = counts.shape[1]
        self.multi = r >= 2
        self.n2 = int(self.multi.sum())
        pairs = np.where(self.multi, r * (r - 1), 1.0)
        self.pa_i = np.where(self.multi, (counts * (counts - 1)).sum(1) / pairs, 0.0)
        self.pa = float(self.pa_i.sum() / self.n2) if self.n2 else math.nan
        self.shares = counts / r[:, None]
        self.pi = self.shares.mean(0) if self.n else np.zeros(self.q)

    def coefficient(self, name: str, pe: float, pe_i: np.ndarray, confidence: float) -> Estimate:
        """(p_a − p_e)/(1 − p_e) with Gwet's variance, given p_e and its per-item terms."""
        value = (self.pa - pe) / (1 - pe)
        c_i = (self.n / self.n2) * (self.pa_i - pe * self.multi) / (1 - pe)
        c_star = c_i - 2 * (1 - value) * (pe_i - pe) / (1 - pe)
        se = _linearised_se(c_star, value, self.n)
        low, high = t_interval(value, se, self.n - 1, confidence)
        return Estimate(name, float(value), low, high, se, GWET_VAR, confidence, self.n2)

    def refuse(self, name: str, confidence: float) -> Estimate | None:
        """The reason a coefficient cannot exist for this data, if any."""
        if self.n2 == 0:
            return undefined(name, "no item has two or more ratings", 0, confidence)
        return None


def _linearised_se(values: np.ndarray, estimate: float, n: int) -> float:
    """sqrt(Σ (v_i − estimate)² / (n(n − 1))), the variance of a mean of n item terms."""
    if n < 2:
        return math.nan
    return math.sqrt(float(((values - estimate) ** 2).sum()) / (n * (n - 1)))


def multi_percent_agreement(counts: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean share of agreeing rater pairs per item (items with ≥ 2 ratings), Gwet's variance."""
    parts = _Parts(counts)
    refused = parts.refuse("percent_agreement", confidence)
    if refused:
        return refused
    terms = (parts.n / parts.n2) * parts.pa_i
    se = _linearised_se(terms, parts.pa, parts.n)
    low, high = t_interval(parts.pa, se, parts.n - 1, confidence, 0.0, 1.0)
    return Estimate("percent_agreement", parts.pa, low, high, se, GWET_VAR, confidence, parts.n2)


def fleiss_kappa(counts: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Fleiss' κ (Fleiss 1971) with Gwet's variance; generalised to unequal ratings per item."""
    parts = _Parts(counts)
    refused = parts.refuse("fleiss_kappa", confidence)
    if refused:
        return refused
    pe = float((parts.pi**2).sum())
    if pe >= 1 - 1e-12:
        return undefined(
            "fleiss_kappa",
            "every rating is the same category: chance agreement is 1, so κ is undefined (0/0)",
            parts.n2,
            confidence,
        )
    estimate = parts.coefficient("fleiss_kappa", pe, parts.shares @ parts.pi, confidence)
    balanced = parts.n2 == parts.n and np.all(parts.r == parts.r[0])
    if balanced:  # Fleiss' own setting: take the value from statsmodels
        value = float(sm_fleiss_kappa(parts.counts, method="fleiss"))
        estimate = replace(estimate, value=value)
    return estimate


def gwet_ac1(counts: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Gwet's AC1 (Gwet 2008) with its variance, for any number of raters and categories."""
    parts = _Parts(counts)
    refused = parts.refuse("gwet_ac1", confidence)
    if refused:
        return refused
    if parts.q < 2:
        return undefined(
            "gwet_ac1",
            "only one category on the scale: AC1's chance term divides by q − 1 = 0",
            parts.n2,
            confidence,
        )
    pe = float((parts.pi * (1 - parts.pi)).sum() / (parts.q - 1))
    pe_i = parts.shares @ (1 - parts.pi) / (parts.q - 1)
    return parts.coefficient("gwet_ac1", pe, pe_i, confidence)
