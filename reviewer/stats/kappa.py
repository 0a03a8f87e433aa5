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
    table: np.ndarray,
    confidence: float = 0.95,
    weights: str | None = None,
    values: np.ndarray | None = None,
) -> Estimate:
    """Cohen's κ of a q × q table of counts, optionally weighted.

    Args:
        table: Rows: first rater's category; columns: second rater's; same order.
        confidence: Two-sided level of the Wald interval.
        weights: ``None`` for plain κ (Cohen 1960); ``linear`` (Cicchetti–Allison) or
            ``quadratic`` (Fleiss–Cohen) disagreement weights on the category positions.
        values: The categories' numeric values at interval level: the disagreement
            weights then use value differences (as R's ``irr::kappa2``), not ranks.

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
        position = (np.arange(table.shape[0], dtype=float) if values is None
                    else np.asarray(values, dtype=float))
        power = 1 if weights == "linear" else 2
        w = np.abs(position[:, None] - position[None, :]) ** power
        expected_disagreement = float((w * np.outer(rows, cols)).sum())
    constant = _constant_rater(table)
    if constant is not None and expected_disagreement > 1e-12:
        return undefined(
            name,
            f"uninformative: the {constant} rater used one category (κ = 0 by construction)",
            n,
            confidence,
        )
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
        result = cohens_kappa(table, wt=weights, weights=values)
    kappa = float(result.kappa)
    se = float(np.sqrt(result.var_kappa)) if result.var_kappa >= 0 else math.nan
    low, high = normal_interval(kappa, se, confidence)
    note = None if math.isfinite(se) else "standard error not available"
    return Estimate(
        name, kappa, low, high, se if math.isfinite(se) else None, ASE, confidence, n, note
    )


def _constant_rater(table: np.ndarray) -> str | None:
    """``first`` or ``second`` when that rater used a single category for every item."""
    if int((table.sum(1) > 0).sum()) == 1:
        return "first"
    if int((table.sum(0) > 0).sum()) == 1:
        return "second"
    return None


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
    """PABAK for a q × q table: 2·p_o − 1 for two categories (Byrt, Bishop & Carlin 1993),
    (q·p_o − 1)/(q − 1) for q (Brennan & Prediger 1981, the same coefficient generalised).

    Computed here because no library we use has it; it is a linear map of the
    observed agreement, so its interval is the Wilson interval of p_o mapped the same way.
    """
    table = np.asarray(table)
    agreement = table_percent_agreement(table, confidence)
    return pabak_from_agreement(agreement, table.shape[0])


def pabak_from_agreement(agreement: Estimate, q: int = 2) -> Estimate:
    """PABAK = (q·p_o − 1)/(q − 1) and its interval from a percent-agreement estimate."""
    if q < 2:
        return undefined("pabak", "PABAK needs at least two categories on the scale",
                         agreement.n_items, agreement.confidence)
    if agreement.value is None:
        return undefined("pabak", agreement.note or "no agreement", 0, agreement.confidence)

    def mapped(v: float | None) -> float | None:
        return None if v is None else (q * v - 1) / (q - 1)

    se = None if agreement.se is None else q * agreement.se / (q - 1)
    form = "2·p_o − 1" if q == 2 else f"({q}·p_o − 1)/{q - 1} (Brennan–Prediger)"
    method = f"{form} mapped from the {agreement.ci_method}"
    return Estimate(
        "pabak",
        mapped(agreement.value),
        mapped(agreement.low),
        mapped(agreement.high),
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
