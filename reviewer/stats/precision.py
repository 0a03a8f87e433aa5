"""Filter precision, miss rate and recall from human labels, plain and weighted by the plan.

Two kinds of estimate, both reported:

* **Among labelled items** (unweighted): of the items flagger F raised that people
  judged, the share they confirmed, k / n, with Wilson and Clopper–Pearson intervals
  from :func:`reviewer.stats.intervals.proportion_ci`. Honest about the labels,
  but only about them.
* **Weighted to the dataset** from a stratified plan: every labelled item in stratum
  h stands for N_h / m_h items (m_h = items of h with a binary verdict). The
  estimator is the ratio (Hájek) estimator Σ w·a / Σ w·b with a Taylor-linearised
  variance (Cochran 1977 §6.11; Särndal, Swensson & Wretman 1992 §5.6). When each
  stratum lies inside the flagger's domain it *is* the standard stratified estimator
  p̂ = Σ W_h p̂_h with Var = Σ W_h² (1 − f_h) p̂_h (1 − p̂_h) / (m_h − 1); the
  linearised form also handles strata only partly flagged by F and recall.
  Intervals: p̂ ± z·SE, clipped to [0, 1].

Written here rather than taken from statsmodels because no well-kept Python library
offers design-based stratified ratio estimation with a finite-population correction
(``samplics`` does, but is not a dependency); the arithmetic is a few lines and is
tested against a hand computation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

HARMFUL = ("confirm", "escalate")
BENIGN = ("reject",)
EXCLUDED = ("unsure", "skip")


def category_of_flag(flag: str) -> str:
    """The label category that confirms or rejects a flag (hate flags: ``hate``)."""
    if flag.startswith("hate"):
        return "hate"
    if flag == "clip_mismatch":
        return "other"
    return "nsfw"


def item_verdicts(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled item: vote counts and the binary verdict ``y``.

    ``y`` is 1 when more reviewers said confirm (or escalate) than reject, 0 when
    more said reject, and missing when the votes tie or nobody gave a binary verdict
    (only unsure / skip): those items are counted, never guessed.

    Args:
        labels: Rows with ``sample_id`` and ``verdict`` (one category's labels).
    """
    if labels.empty:
        return pd.DataFrame(
            columns=["sample_id", "harmful", "benign", "excluded", "y"]
        ).astype({"harmful": int, "benign": int, "excluded": int, "y": float})
    verdict = labels["verdict"]
    votes = pd.DataFrame({
        "sample_id": labels["sample_id"],
        "harmful": verdict.isin(HARMFUL).astype(int),
        "benign": verdict.isin(BENIGN).astype(int),
        "excluded": verdict.isin(EXCLUDED).astype(int),
    })
    items = votes.groupby("sample_id", as_index=False).sum()
    y = np.where(items["harmful"] > items["benign"], 1.0,
                 np.where(items["benign"] > items["harmful"], 0.0, np.nan))
    items["y"] = y
    return items


@dataclass(frozen=True)
class WeightedEstimate:
    """A design-weighted ratio estimate with its standard error and normal interval."""

    estimate: float | None
    se: float | None
    low: float | None
    high: float | None
    confidence: float
    strata_used: int
    labelled: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    numerator_total: float | None = None
    denominator_total: float | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {
            "estimate": self.estimate, "se": self.se, "low": self.low, "high": self.high,
            "confidence": self.confidence, "strata_used": self.strata_used,
            "labelled": self.labelled, "notes": list(self.notes),
        }


def ratio_estimate(
    items: pd.DataFrame,
    populations: dict[str, int],
    numerator: pd.Series,
    denominator: pd.Series,
    confidence: float = 0.95,
) -> WeightedEstimate:
    """Estimate R = Σ_U a / Σ_U b from a stratified sample of labelled items.

    Args:
        items: One row per labelled item with a binary verdict, column ``stratum``.
        populations: N_h by stratum (from the plan).
        numerator: a_i per row of ``items`` (e.g. y_i · [flagged by F]).
        denominator: b_i per row (e.g. [flagged by F], or y_i for recall).
        confidence: Two-sided level of the normal interval.

    Returns:
        R̂ = Σ_h (N_h/m_h) Σ_i a_i / Σ_h (N_h/m_h) Σ_i b_i and
        Var = Σ_h N_h² (1 − m_h/N_h) s²_{e,h} / m_h / B̂², with e_i = a_i − R̂ b_i.
    """
    notes: list[str] = []
    frame = pd.DataFrame({
        "stratum": items["stratum"].to_numpy(),
        "a": np.asarray(numerator, dtype=float),
        "b": np.asarray(denominator, dtype=float),
    })
    frame = frame[frame["stratum"].isin(populations.keys())]
    counts = frame.groupby("stratum").size()
    unlabelled = sorted(set(populations) - set(counts.index))
    if unlabelled:
        notes.append(f"{len(unlabelled)} stratum(s) without labels left out: "
                     + ", ".join(unlabelled[:3]) + (" …" if len(unlabelled) > 3 else ""))
    big_n = pd.Series({h: populations[h] for h in counts.index}, dtype=float)
    weight = frame["stratum"].map(big_n / counts)
    b_total = float((weight * frame["b"]).sum())
    if frame.empty or b_total <= 0:
        return WeightedEstimate(None, None, None, None, confidence, int(counts.size),
                                len(frame), (*notes, "no labelled item in the domain"))
    ratio = float((weight * frame["a"]).sum()) / b_total
    frame["e"] = frame["a"] - ratio * frame["b"]
    variance = 0.0
    for stratum, group in frame.groupby("stratum"):
        m_h, n_pop = len(group), float(big_n[stratum])
        if m_h < 2:
            notes.append(f"stratum {stratum} has 1 label: its variance term is taken as 0")
            continue
        s2 = float(group["e"].var(ddof=1))
        variance += n_pop * n_pop * (1 - m_h / n_pop) * s2 / m_h
    se = math.sqrt(max(variance, 0.0)) / b_total
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    return WeightedEstimate(
        estimate=ratio, se=se, low=max(0.0, ratio - z * se), high=min(1.0, ratio + z * se),
        confidence=confidence, strata_used=int(counts.size), labelled=len(frame),
        notes=tuple(notes), numerator_total=ratio * b_total, denominator_total=b_total,
    )


def stratified_proportion(
    items: pd.DataFrame, populations: dict[str, int], confidence: float = 0.95
) -> WeightedEstimate:
    """The stratified estimate p̂ = Σ W_h p̂_h of the share of harmful items (``y``)."""
    ones = pd.Series(np.ones(len(items)), index=items.index)
    return ratio_estimate(items, populations, items["y"], ones, confidence)


def flagged_mask(items: pd.DataFrame, flag: str) -> pd.Series:
    """Whether each item's flag set (``keyword+nsfw_field``) contains ``flag``."""
    sets = "+" + items["flagset"].astype(object).fillna("").astype(str) + "+"
    return sets.str.contains(f"+{flag}+", regex=False).astype(float)
