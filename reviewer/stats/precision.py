"""Verdicts per item and flag membership: the inputs of every precision estimate.

An item's binary verdict ``y`` is the majority of its binary votes (confirm and
escalate = harmful, reject = benign); ties and unsure/skip-only items have none and
are counted, never guessed. The estimators themselves are design-based and live in
:mod:`reviewer.stats.design`; the share among labelled items, k / n with Wilson and
Clopper–Pearson intervals, comes from :func:`reviewer.stats.intervals.proportion_ci`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def flagged_mask(items: pd.DataFrame, flag: str) -> pd.Series:
    """Whether each item's flag set (``keyword+nsfw_field``) contains ``flag``."""
    sets = "+" + items["flagset"].astype(object).fillna("").astype(str) + "+"
    return sets.str.contains(f"+{flag}+", regex=False).astype(float)
