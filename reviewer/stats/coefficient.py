"""One agreement coefficient with its interval, or the reason it has none.

Every agreement statistic returns an :class:`Estimate`, so reports, the JSON
output and the TUI show values, intervals and "undefined because ..." the same
way. A coefficient that cannot be computed (one category only, no item rated
twice) is ``value=None`` with a ``note`` saying why: printing NaN would hide it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A coefficient, its standard error and two-sided confidence interval.

    Attributes:
        statistic: Short name, e.g. ``cohen_kappa``.
        value: The point estimate, or ``None`` when undefined (see ``note``).
        low: Lower confidence bound (``None`` when no interval exists).
        high: Upper confidence bound.
        se: Standard error where the method gives one (bootstrap: the SD of resamples).
        ci_method: How the interval was obtained, in words a reader can look up.
        confidence: Two-sided confidence level, e.g. 0.95.
        n_items: Items that entered the computation.
        note: Why ``value`` is ``None``, or a caveat worth printing.
    """

    statistic: str
    value: float | None
    low: float | None = None
    high: float | None = None
    se: float | None = None
    ci_method: str = ""
    confidence: float = 0.95
    n_items: int = 0
    note: str | None = None

    @property
    def defined(self) -> bool:
        """Whether the coefficient has a value."""
        return self.value is not None

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON output (``None`` becomes ``null``)."""
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "se": self.se,
            "ci_method": self.ci_method,
            "confidence": self.confidence,
            "n_items": self.n_items,
            "note": self.note,
        }


def undefined(statistic: str, reason: str, n_items: int = 0, confidence: float = 0.95) -> Estimate:
    """An estimate that does not exist, with the reason in words."""
    return Estimate(statistic, None, confidence=confidence, n_items=n_items, note=reason)


def clip(value: float, low: float = -1.0, high: float = 1.0) -> float:
    """``value`` limited to ``[low, high]`` (coefficients cannot leave their range)."""
    return min(high, max(low, value))


def normal_interval(
    value: float, se: float, confidence: float, low: float = -1.0, high: float = 1.0
) -> tuple[float | None, float | None]:
    """Wald interval ``value ± z·se`` clipped to the coefficient's range."""
    if not math.isfinite(se):
        return None, None
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return clip(value - z * se, low, high), clip(value + z * se, low, high)


def t_interval(
    value: float, se: float, df: int, confidence: float, low: float = -1.0, high: float = 1.0
) -> tuple[float | None, float | None]:
    """``value ± t(df)·se`` clipped, as Gwet (2014) and his irrCAC package compute it."""
    if not math.isfinite(se) or df < 1:
        return None, None
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    return clip(value - t * se, low, high), clip(value + t * se, low, high)
