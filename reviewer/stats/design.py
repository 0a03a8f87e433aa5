"""Design-based estimation from a stratified plan: one estimator, one interval, used everywhere.

A plan draws a simple random sample of items from each stratum h (N_h items in
the population). Of those, m_h carry a binary verdict; each stands for N_h / m_h
items of the population (the weight; the inclusion probability corrected for the
drawn items not yet labelled). Every quantity ``reviewer stats`` generalises
beyond the labels is a ratio R = Σ_U a / Σ_U b of population totals: prevalence
(a = y, b = 1), a flag's precision (a = y·[flagged], b = [flagged]), recall
(a = y·[flagged], b = y), a cell share of the people-vs-tag table.

* **Point estimate**: the Hájek ratio R̂ = Σ_h (N_h/m_h) A_h / Σ_h (N_h/m_h) B_h,
  A_h = Σ_i a_i and B_h = Σ_i b_i over the labelled items of h.
* **Variance**: Taylor linearisation (Särndal, Swensson & Wretman 1992, §5.6):
  V = Σ_h N_h² (1 − m_h/N_h) s²_{e,h} / m_h / B̂², with residuals e_i = a_i − R̂ b_i.
  A stratum whose labels are all 0 or all 1 (or has one label) has s²_e = 0 and
  would make the interval collapse; so each stratum's variance is at least
  δ_h p̃_h (1 − p̃_h), with p̃_h = (A_h + ½)/(B_h + 1) (the add-half, Jeffreys-centred
  share) and δ_h = B_h/m_h the stratum's share in the domain. That floor is our
  addition; its coverage is checked by the seeded simulation in
  ``tests/stats/audit/test_design.py``.
* **Interval**: Korn & Graubard (1998), as R's ``survey::svyciprop(method="beta")``:
  Clopper–Pearson on the effective sample size n* = p̃(1 − p̃)/V, shrunk by the
  degrees-of-freedom factor (t_{m−1}/t_{m−H})², with x* = R̂ n*. It has width 0
  only when every stratum is a census (V = 0).

Written with numpy rather than taken from ``samplics`` because samplics is not a
dependency and needs per-row data: these functions take per-stratum sums, so one
call evaluates thousands of simulated draws at once (the coverage test) and the
statistics never loop in Python over labels. The tests compare the estimates with
an independent Horvitz–Thompson / Taylor computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

METHOD = ("Hájek ratio, Taylor-linearised stratified variance (each stratum at least "
          "its add-half binomial variance), Korn–Graubard (Clopper–Pearson on the "
          "effective n) interval")
CENSUS = "every item of the population is labelled: the value is exact"


@dataclass(frozen=True)
class DesignEstimate:
    """A design-based estimate of a ratio of population totals with its interval.

    Attributes:
        estimate: R̂, or ``None`` when no labelled item lies in the domain.
        low: Lower confidence bound (Korn–Graubard).
        high: Upper confidence bound.
        se: Linearised standard error (with the per-stratum floor).
        n_effective: Korn–Graubard effective sample size n* (``None`` for a census).
        labelled: Labelled items that entered the estimate.
        strata_used: Strata with at least one label.
        confidence: Two-sided level.
        method: How it was computed, in words.
        notes: Caveats a reader needs (unlabelled strata, one-label strata).
    """

    estimate: float | None
    low: float | None
    high: float | None
    se: float | None
    n_effective: float | None
    labelled: int
    strata_used: int
    confidence: float
    method: str = METHOD
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "estimate": self.estimate, "low": self.low, "high": self.high, "se": self.se,
            "n_effective": self.n_effective, "labelled": self.labelled,
            "strata_used": self.strata_used, "confidence": self.confidence,
            "method": self.method, "notes": list(self.notes),
        }


@dataclass(frozen=True)
class StratumSums:
    """Per-stratum sufficient statistics of binary a ≤ b (a = 1 implies b = 1).

    Arrays of shape ``(..., H)``: leading axes are independent replicates (the
    coverage simulation), the last axis the strata.
    """

    population: np.ndarray
    labelled: np.ndarray
    a: np.ndarray
    b: np.ndarray


def ratio_arrays(
    sums: StratumSums, confidence: float = 0.95, random_domain: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised R̂, low, high, SE and n* for every replicate (NaN where undefined).

    Strata with ``labelled == 0`` are left out (the caller bounds them, see
    :func:`ratio_estimate`). ``random_domain``: the domain indicator b is itself a
    verdict (recall: b = y), so a stratum with no b = 1 among its labels may still
    hold domain items; its floor then smooths the domain share too. Otherwise (a
    flag, a tag, every item) b is known for each item and a stratum outside the
    domain adds nothing.
    """
    big_n = np.asarray(sums.population, dtype=float)
    m = np.asarray(sums.labelled, dtype=float)
    a = np.asarray(sums.a, dtype=float)
    b = np.asarray(sums.b, dtype=float)
    has = m > 0
    m_safe = np.where(has, m, 1.0)
    w = np.where(has, big_n / m_safe, 0.0)
    b_hat = (w * b).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (w * a).sum(-1) / b_hat
        r = ratio[..., None]
        # Σe and Σe² for binary a ≤ b: a² = a, ab = a, b² = b.
        sum_e = a - r * b
        sum_e2 = a - 2 * r * a + r * r * b
        s2 = np.where(m > 1, (sum_e2 - sum_e**2 / m_safe) / np.maximum(m - 1, 1), 0.0)
        smooth = (a + 0.5) / (b + 1.0)
        floor = (b / m_safe) * smooth * (1 - smooth)
        if random_domain:
            floor = _random_domain_floor(a, b, m_safe, r)
        s2 = np.where(has, np.maximum(s2, floor), 0.0)
        fpc = np.clip(1 - m / np.where(big_n > 0, big_n, 1.0), 0.0, 1.0)
        variance = (big_n**2 * fpc * s2 / m_safe).sum(-1) / b_hat**2
        smooth_ratio = (w * b * smooth).sum(-1) / b_hat
        n_star = smooth_ratio * (1 - smooth_ratio) / variance
    n_units = np.where(has, m, 0).sum(-1)
    strata = has.sum(-1)
    df = np.maximum(n_units - strata, 1)
    alpha = 1 - confidence
    shrink = (sps.t.ppf(alpha / 2, np.maximum(n_units - 1, 1)) / sps.t.ppf(alpha / 2, df)) ** 2
    n_star = n_star * shrink
    low, high = _clopper_pearson_effective(ratio, n_star, alpha)
    exact = variance <= 0
    low = np.where(exact, ratio, low)
    high = np.where(exact, ratio, high)
    return ratio, low, high, np.sqrt(variance), np.where(exact, np.nan, n_star)


def _random_domain_floor(
    a: np.ndarray, b: np.ndarray, m: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """Var(e) with e = a − R b under add-half shares of b and of a within b.

    e is 1 − R (a = 1), −R (a = 0, b = 1) or 0 (b = 0).
    """
    q_b = (b + 0.5) / (m + 1.0)
    q_a = (a + 0.5) / (b + 1.0)
    second = q_b * (q_a * (1 - r) ** 2 + (1 - q_a) * r * r)
    variance: np.ndarray = second - (q_b * (q_a - r)) ** 2
    return variance


def _clopper_pearson_effective(
    ratio: np.ndarray, n_star: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper–Pearson bounds at a non-integer effective n* with x* = R̂ n*."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n_safe = np.where(np.isfinite(n_star) & (n_star > 0), n_star, np.nan)
        x = ratio * n_safe
        low = np.where(x <= 0, 0.0, sps.beta.ppf(alpha / 2, np.maximum(x, 1e-12),
                                                   np.maximum(n_safe - x + 1, 1e-12)))
        high = np.where(x >= n_safe, 1.0, sps.beta.ppf(1 - alpha / 2, x + 1,
                                                        np.maximum(n_safe - x, 1e-12)))
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def _num(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def ratio_estimate(
    strata: list[str],
    sums: StratumSums,
    confidence: float = 0.95,
    unlabelled_reach: np.ndarray | None = None,
    random_domain: bool = False,
) -> DesignEstimate:
    """One design-based ratio with notes on the strata that weaken it.

    Args:
        strata: Stratum names (for the notes), in the order of ``sums``' last axis.
        sums: Per-stratum sums of one estimate (1-D arrays).
        confidence: Two-sided level.
        unlabelled_reach: Per stratum, the most population items of an *unlabelled*
            stratum that could lie in the domain (default: all N_h). An unlabelled
            stratum's share is unknown, so the interval is widened to the worst case
            (all those items 0, or all 1) and the estimate describes the labelled strata.
    """
    big_n = np.asarray(sums.population, dtype=float)
    m = np.asarray(sums.labelled, dtype=float)
    ratio, low, high, se, n_star = (
        float(v) for v in ratio_arrays(sums, confidence, random_domain)
    )
    reach = big_n if unlabelled_reach is None else np.asarray(unlabelled_reach, dtype=float)
    notes = _stratum_notes(strata, m, np.asarray(sums.b, dtype=float), reach, big_n)
    used, labelled = int((m > 0).sum()), int(np.asarray(sums.b).sum())
    if not np.isfinite(ratio):
        return DesignEstimate(None, None, None, None, None, labelled, used, confidence,
                              notes=(*notes, "no labelled item in the domain"))
    extra = float(np.where(m == 0, reach, 0.0).sum())
    if extra > 0:
        # Worst cases: every possible domain item of the unlabelled strata is 0, or is 1.
        w = np.where(m > 0, big_n / np.where(m > 0, m, 1.0), 0.0)
        b_hat = float((w * np.asarray(sums.b, dtype=float)).sum())
        low = low * b_hat / (b_hat + extra)
        high = (high * b_hat + extra) / (b_hat + extra)
    method = METHOD if np.isfinite(n_star) or extra > 0 else CENSUS
    return DesignEstimate(ratio, low, high, _num(se), _num(n_star), labelled, used,
                          confidence, method, tuple(notes))


def _stratum_notes(
    strata: list[str], m: np.ndarray, b: np.ndarray, reach: np.ndarray, big_n: np.ndarray
) -> list[str]:
    """Notes about the strata of one estimate only (never about other flags' strata)."""
    notes = []
    empty = [s for s, mh, r in zip(strata, m, reach, strict=True) if mh == 0 and r > 0]
    if empty:
        shown = ", ".join(empty[:3]) + (" …" if len(empty) > 3 else "")
        notes.append(f"{len(empty)} stratum(s) without labels ({shown}): the estimate describes"
                     " the labelled strata; the interval allows any value in the others")
    single = [s for s, mh, bh, nh in zip(strata, m, b, big_n, strict=True)
              if mh == 1 and bh > 0 and nh > 1]
    if single:
        shown = ", ".join(single[:3]) + (" …" if len(single) > 3 else "")
        notes.append(f"{len(single)} stratum(s) with one label ({shown}): their variance is"
                     " the conservative add-half binomial bound")
    return notes
