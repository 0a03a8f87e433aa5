"""Agreement as ``reviewer stats`` reports it: reviewers with each other, people with the tag.

The coefficients themselves live in :mod:`reviewer.stats.agreement` and
:mod:`reviewer.stats.field_agreement`; this module only turns an audit's labels
into the (item, rater, value) triples they take and collects the results as plain
dicts.

Verdicts become binary before agreement is measured (confirm and escalate =
harmful, reject = benign); unsure and skip are not a judgement on the item and
are left out, as everywhere else in the statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from reviewer.errors import ReviewerError
from reviewer.stats import agreement
from reviewer.stats.field_agreement import verdict_vs_field
from reviewer.stats.precision import BENIGN, HARMFUL
from reviewer.stats.ratings import as_ratings

BINARY = ("benign", "harmful")
CUT_KEYS = {"UNSURE+NSFW": "unsure", "NSFW": "nsfw"}


def binary_triples(labels: pd.DataFrame) -> pd.DataFrame:
    """(item, rater, label) rows with label harmful / benign; unsure and skip dropped."""
    verdict = labels["verdict"]
    keep = verdict.isin(HARMFUL) | verdict.isin(BENIGN)
    return pd.DataFrame({
        "item": labels.loc[keep, "sample_id"].astype(str),
        "rater": labels.loc[keep, "reviewer"].astype(str),
        "label": np.where(verdict[keep].isin(HARMFUL), "harmful", "benign"),
    })


def reviewer_agreement(labels: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Agreement between reviewers on items two or more of them judged (binary verdicts).

    Returns:
        ``n_items`` (items with ≥ 2 binary verdicts), ``n_raters``, ``note`` when
        nothing can be computed, ``overall`` (percent agreement, Fleiss' κ, Gwet's AC1,
        Krippendorff's α as dicts) and ``pairs`` (Cohen's κ per reviewer pair).
    """
    triples = binary_triples(labels)
    per_item = triples.groupby("item")["rater"].nunique() if len(triples) else pd.Series()
    shared = per_item[per_item >= 2].index
    raters = sorted(triples["rater"].unique()) if len(triples) else []
    result: dict[str, Any] = {"n_items": len(shared), "n_raters": len(raters),
                              "overall": {}, "pairs": [], "note": None}
    if len(raters) < 2:
        result["note"] = "only one reviewer has binary verdicts: no agreement to measure"
        return result
    if not len(shared):
        result["note"] = ("no item was judged by two reviewers: draw a plan with"
                          " --reviewers and --overlap")
        return result
    shared_rows = triples.groupby("item")["rater"].transform("nunique") >= 2
    try:
        ratings = as_ratings(triples[shared_rows], order=BINARY)
    except ReviewerError as exc:
        result["note"] = exc.message
        return result
    estimates = [
        agreement.percent_agreement(ratings, confidence=confidence),
        agreement.fleiss_kappa(ratings, confidence=confidence),
        agreement.gwet_ac1(ratings, confidence=confidence),
        agreement.krippendorff_alpha(ratings, confidence=confidence, n_boot=KRIPPENDORFF_BOOT),
    ]
    result["overall"] = {e.statistic: e.as_dict() for e in estimates}
    for pair in agreement.pairwise_cohen(ratings, confidence=confidence):
        result["pairs"].append({"a": pair.rater_a, "b": pair.rater_b,
                                **pair.kappa.as_dict(), "n_items": pair.n_shared})
    return result


KRIPPENDORFF_BOOT = 1000
"""Bootstrap resamples for α's interval (seeded, so reports reproduce exactly)."""


def field_agreement(labels: pd.DataFrame, confidence: float = 0.95) -> dict[str, dict[str, Any]]:
    """People's verdicts against the LAION NSFW tag, the tag treated as one more rater.

    Each label (one reviewer, one item) is paired with the item's tag and passed to
    :func:`reviewer.stats.field_agreement.verdict_vs_field`; its results are flattened
    to ``<statistic>_cut_<unsure|nsfw>`` and ``weighted_kappa_<linear|quadratic>``.
    """
    rows = pa.table({
        "verdict": pa.array(labels["verdict"].astype(str).tolist(), pa.string()),
        "tag": pa.array(labels["nsfw"].astype(str).tolist(), pa.string()),
    })
    result = verdict_vs_field(rows, confidence=confidence)
    out: dict[str, dict[str, Any]] = {
        f"weighted_kappa_{w}": e.as_dict() for w, e in result.weighted.items()
    }
    for cut, binary in result.binary.items():
        suffix = CUT_KEYS.get(cut, cut.lower())
        for estimate in (binary.cohen_kappa, binary.percent_agreement, binary.pabak,
                         binary.gwet_ac1):
            out[f"{estimate.statistic}_cut_{suffix}"] = estimate.as_dict()
    return out
