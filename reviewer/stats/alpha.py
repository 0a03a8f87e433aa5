"""Krippendorff's α (nominal, ordinal, interval) with a bootstrap interval over items.

The point estimate comes from the ``krippendorff`` package, fed the item ×
value count matrix (``value_counts``): it handles missing ratings as
Krippendorff (2011) defines, by building the coincidence matrix from pairable
values only, so items rated once drop out on their own.

The package has no interval. Krippendorff's own bootstrap (Hayes &
Krippendorff 2007) resamples pairable values; we resample *items*, the unit
that was sampled, which is what the rest of the audit statistics assume. α
depends on the data only through the coincidence matrix, which is a sum of
per-item matrices; items with the same count vector contribute the same
matrix, so one bootstrap resample is a multinomial draw over the distinct
count patterns and costs one small matrix product. That is why this module
computes α from coincidences itself (checked against the package in the tests).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from reviewer.stats.coefficient import Estimate, undefined

METRICS = ("nominal", "ordinal", "interval")


def krippendorff_alpha(
    counts: np.ndarray,
    level: str = "nominal",
    values: np.ndarray | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> Estimate:
    """Krippendorff's α from item × category counts.

    Args:
        counts: How many raters put item i in category k; categories in scale order.
        level: ``nominal``, ``ordinal`` or ``interval``.
        values: Numeric value of each category for ``interval`` (default: 0, 1, 2...).
        confidence: Two-sided level of the percentile interval.
        n_boot: Bootstrap resamples of items (0: no interval).
        seed: Seed of the resampling, so a report can be reproduced exactly.
    """
    import krippendorff

    if level not in METRICS:
        raise ValueError(f"level must be one of {METRICS}, not {level!r}")
    counts = np.asarray(counts, dtype=float)
    pairable = counts[counts.sum(1) >= 2]
    name = "krippendorff_alpha"
    if pairable.shape[0] == 0:
        return undefined(
            name, "no item has two or more ratings (nothing is pairable)", 0, confidence
        )
    q = counts.shape[1]
    scale = np.arange(q, dtype=float) if values is None or level != "interval" else values
    patterns, freq = distinct_rows(pairable)
    coincidence = _coincidences(patterns)
    own = _alpha(coincidence.T @ freq, level, scale)
    if own is None:
        return undefined(
            name,
            "every pairable value is the same: expected disagreement is 0, so α is undefined",
            int(pairable.shape[0]),
            confidence,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(
            krippendorff.alpha(
                value_counts=pairable, value_domain=list(scale), level_of_measurement=_metric(level)
            )
        )
    alphas = _bootstrap(coincidence, freq, level, scale, n_boot, seed)
    low, high, se = _percentiles(alphas, confidence)
    method = f"percentile bootstrap over items ({n_boot} resamples, seed {seed})" if n_boot else ""
    dropped = n_boot - alphas.size
    note = (
        f"{dropped} of {n_boot} resamples had a single category (α undefined) and were left "
        "out, so the interval leans high"
        if dropped
        else None
    )
    return Estimate(name, value, low, high, se, method, confidence, int(pairable.shape[0]), note)


def distinct_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a count matrix and how often each occurs.

    Rows are packed into one integer each (base = largest count + 1) so the sort is
    over integers; ``np.unique(axis=0)`` is ~10× slower on hundreds of thousands of rows.
    """
    q = counts.shape[1]
    base = int(counts.max()) + 1 if counts.size else 1
    if base**q >= 2**62:
        rows, freq = np.unique(counts, axis=0, return_counts=True)
        return rows, freq
    weights = np.array([base**k for k in range(q)], dtype=np.int64)
    keys = counts.astype(np.int64) @ weights
    _, first, freq = np.unique(keys, return_index=True, return_counts=True)
    return counts[first], freq


def _metric(level: str) -> Any:
    """The level name as the package's typed argument (validated against METRICS above)."""
    return level


def _coincidences(patterns: np.ndarray) -> np.ndarray:
    """Each pattern's coincidence matrix (flattened): o_ck = n_c (n_k − [c=k]) / (m − 1)."""
    m = patterns.sum(1)
    outer = patterns[:, :, None] * patterns[:, None, :]
    q = patterns.shape[1]
    diag = np.arange(q)
    outer[:, diag, diag] -= patterns
    matrices: np.ndarray = (outer / (m - 1)[:, None, None]).reshape(len(patterns), q * q)
    return matrices


def _alpha(coincidence: np.ndarray, level: str, scale: np.ndarray) -> float | None:
    """α = 1 − (n − 1) Σ o_ck δ_ck / Σ n_c n_k δ_ck for one coincidence matrix (flattened)."""
    batch = _alpha_batch(coincidence[None, :], level, scale)[0]
    return None if math.isnan(batch) else float(batch)


def _alpha_batch(coincidence: np.ndarray, level: str, scale: np.ndarray) -> np.ndarray:
    """α for a batch of flattened coincidence matrices (NaN where undefined)."""
    q = scale.size
    o = coincidence.reshape(-1, q, q)
    n_c = o.sum(2)
    n = n_c.sum(1)
    delta = _delta(n_c, level, scale)
    observed = (o * delta).sum((1, 2))
    expected = (n_c[:, :, None] * n_c[:, None, :] * delta).sum((1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1 - (n - 1) * observed / expected
    return np.where(expected > 1e-12, alpha, np.nan)


def _delta(n_c: np.ndarray, level: str, scale: np.ndarray) -> np.ndarray:
    """Squared difference functions δ²_ck (Krippendorff 2011), one matrix per batch row."""
    q = scale.size
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(q), (n_c.shape[0], q, q))
    if level == "interval":
        d = (scale[:, None] - scale[None, :]) ** 2
        return np.broadcast_to(d, (n_c.shape[0], q, q))
    # ordinal: (Σ_{g=c..k} n_g − (n_c + n_k)/2)², using the marginal counts of each batch row
    cum = np.concatenate([np.zeros((n_c.shape[0], 1)), np.cumsum(n_c, 1)], 1)
    lo = np.minimum.outer(np.arange(q), np.arange(q))
    hi = np.maximum.outer(np.arange(q), np.arange(q))
    between = cum[:, hi + 1] - cum[:, lo]
    squared: np.ndarray = (between - (n_c[:, :, None] + n_c[:, None, :]) / 2) ** 2
    return squared


def _bootstrap(
    coincidence: np.ndarray,
    freq: np.ndarray,
    level: str,
    scale: np.ndarray,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """α of ``n_boot`` resamples of items (multinomial over patterns); undefined ones dropped."""
    if n_boot <= 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    total = int(freq.sum())
    draws: list[np.ndarray] = []
    for start in range(0, n_boot, 500):
        weights = rng.multinomial(total, freq / total, size=min(500, n_boot - start))
        draws.append(_alpha_batch(weights @ coincidence, level, scale))
    alphas = np.concatenate(draws)
    defined: np.ndarray = alphas[~np.isnan(alphas)]
    return defined


def _percentiles(
    alphas: np.ndarray, confidence: float
) -> tuple[float | None, float | None, float | None]:
    """Percentile interval (clipped to [−1, 1]) and SD of the resampled α."""
    if alphas.size < 2:
        return None, None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return float(max(-1.0, low)), float(min(1.0, high)), float(alphas.std(ddof=1))
