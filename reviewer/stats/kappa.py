"""Two-rater agreement from a q × q table: Cohen's κ (plain and weighted), PABAK, p_o.

The numerics of κ and its asymptotic standard error come from statsmodels'
``cohens_kappa`` (Fleiss, Cohen & Everitt 1969; the same ASE SAS PROC FREQ
prints). What is written here is what statsmodels leaves out: refusing to
divide by zero when chance agreement is 1 (κ undefined, said in words), the
Wald interval at any confidence level, and PABAK (Byrt, Bishop & Carlin 1993),
which is 2·p_o − 1 and so gets its interval from the Wilson interval of p_o.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from statsmodels.stats.inter_rater import cohens_kappa

from reviewer.stats.coefficient import Estimate, normal_interval, undefined
from reviewer.stats.intervals import proportion_ci

ASE = "asymptotic SE (Fleiss, Cohen & Everitt 1969), normal interval"
WILSON = "Wilson interval of the observed agreement"
WEIGHTS = ("linear", "quadratic")


def table_kappa(
    table: np.ndarray, confidence: float = 0.95, weights: str | None = None
) -> Estimate:
    """Cohen's κ of a q × q table of counts, optionally weighted.

    Args:
        table: Rows: first rater's category; columns: second rater's; same order.
        confidence: Two-sided level of the Wald interval.
        weights: ``None`` for plain κ (Cohen 1960); ``linear`` (Cicchetti–Allison) or
            ``quadratic`` (Fleiss–Cohen) disagreement weights on the category positions.

    Returns:
        κ with its asymptotic SE, or ``value=None`` and the reason when κ is undefined.
    """
    name = "cohen_kappa" if weights is None else f"weighted_kappa_{weights}"
    if weights is not None and weights not in WEIGHTS:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    table = np.asarray(table, dtype=float)
    n = int(table.sum())
    if n == 0:
        return undefined(name, "no item was rated by both raters", 0, confidence)
    if table.shape[0] < 2:
        return undefined(name, "only one category on the scale: κ is undefined", n, confidence)
    rows, cols = table.sum(1) / n, table.sum(0) / n
    if weights is None:
        expected_disagreement = 1.0 - float(rows @ cols)
    else:
        position = np.arange(table.shape[0], dtype=float)
        power = 1 if weights == "linear" else 2
        w = np.abs(position[:, None] - position[None, :]) ** power
        expected_disagreement = float((w * np.outer(rows, cols)).sum())
    if expected_disagreement <= 1e-12:
        return undefined(
            name,
            "both raters gave every item the same single category: chance agreement is 1, "
            "so κ is undefined (0/0)",
            n,
            confidence,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = cohens_kappa(table, wt=weights)
    kappa = float(result.kappa)
    se = float(np.sqrt(result.var_kappa)) if result.var_kappa >= 0 else math.nan
    low, high = normal_interval(kappa, se, confidence)
    note = None if math.isfinite(se) else "standard error not available"
    return Estimate(
        name, kappa, low, high, se if math.isfinite(se) else None, ASE, confidence, n, note
    )


def table_percent_agreement(table: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Share of items on which the two raters chose the same category, with a Wilson interval."""
    table = np.asarray(table)
    n = int(table.sum())
    agree = int(np.trace(table))
    p = proportion_ci(agree, n, "wilson", confidence)
    if p.estimate is None:
        return undefined("percent_agreement", "no item was rated by both raters", 0, confidence)
    return Estimate(
        "percent_agreement",
        p.estimate,
        p.low,
        p.high,
        _binomial_se(agree, n),
        WILSON,
        confidence,
        n,
    )


def table_pabak(table: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Prevalence- and bias-adjusted κ, 2·p_o − 1, for a 2 × 2 table (Byrt et al. 1993).

    Computed here because no library we use has it; it is a linear map of the
    observed agreement, so its interval is the Wilson interval of p_o mapped the same way.
    """
    table = np.asarray(table)
    if table.shape != (2, 2):
        return undefined(
            "pabak",
            f"PABAK needs exactly two categories; the scale has {table.shape[0]}",
            int(table.sum()),
            confidence,
        )
    agreement = table_percent_agreement(table, confidence)
    return pabak_from_agreement(agreement)


def pabak_from_agreement(agreement: Estimate) -> Estimate:
    """PABAK = 2·p_o − 1 and its interval from a percent-agreement estimate."""
    if agreement.value is None:
        return undefined("pabak", agreement.note or "no agreement", 0, agreement.confidence)

    def twice(v: float | None) -> float | None:
        return None if v is None else 2 * v - 1

    se = None if agreement.se is None else 2 * agreement.se
    method = f"2·p_o − 1 mapped from the {agreement.ci_method}"
    return Estimate(
        "pabak",
        twice(agreement.value),
        twice(agreement.low),
        twice(agreement.high),
        se,
        method,
        agreement.confidence,
        agreement.n_items,
    )


def _binomial_se(k: int, n: int) -> float | None:
    """Plain binomial standard error of k/n (reported beside the Wilson interval)."""
    if n == 0:
        return None
    p = k / n
    return math.sqrt(p * (1 - p) / n)
