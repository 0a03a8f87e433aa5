"""Agreement as ``reviewer stats`` reports it: reviewers with each other, people with the tag.

The coefficients themselves live in the agreement modules (:mod:`reviewer.stats.kappa`,
:mod:`reviewer.stats.gwet`, :mod:`reviewer.stats.ratings`, Krippendorff's α); this
module only turns an audit's labels into the (item, rater, value) triples and
tables they take, and collects the results as plain dicts.

Verdicts become binary before agreement is measured (confirm and escalate =
harmful, reject = benign); unsure and skip are not a judgement on the item and
are left out, as everywhere else in the statistics.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from reviewer.errors import ReviewerError
from reviewer.stats.alpha import krippendorff_alpha
from reviewer.stats.gwet import fleiss_kappa, gwet_ac1, multi_percent_agreement
from reviewer.stats.kappa import table_kappa, table_pabak, table_percent_agreement
from reviewer.stats.precision import BENIGN, HARMFUL
from reviewer.stats.ratings import as_ratings

BINARY = ("benign", "harmful")
TAGS = ("UNLIKELY", "UNSURE", "NSFW")
HUMAN_ORDINAL = ("reject", "unsure", "confirm")


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
    overlap = triples[triples["item"].isin(shared)]
    try:
        ratings = as_ratings(overlap, order=BINARY)
    except ReviewerError as exc:
        result["note"] = exc.message
        return result
    counts = ratings.counts
    complete = counts[counts.sum(axis=1) == counts.sum(axis=1).max()]
    estimates = [
        multi_percent_agreement(counts, confidence),
        fleiss_kappa(complete, confidence),
        gwet_ac1(counts, confidence),
        krippendorff_alpha(counts, "nominal", confidence=confidence),
    ]
    result["overall"] = {e.statistic: e.as_dict() for e in estimates}
    for a, b in itertools.combinations(range(ratings.n_raters), 2):
        table, _ = ratings.pair_table(a, b)
        if table.sum() == 0:
            continue
        kappa = table_kappa(table, confidence)
        result["pairs"].append({"a": ratings.raters[a], "b": ratings.raters[b],
                                "n_items": int(table.sum()), **kappa.as_dict()})
    return result


def _pair_table(left: pd.Series, right: pd.Series, left_levels: tuple[str, ...],
                right_levels: tuple[str, ...]) -> np.ndarray:
    table = np.zeros((len(left_levels), len(right_levels)), dtype=int)
    for x, y in zip(left, right, strict=True):
        table[left_levels.index(x), right_levels.index(y)] += 1
    return table


def field_agreement(labels: pd.DataFrame, confidence: float = 0.95) -> dict[str, dict[str, Any]]:
    """People's verdicts against the LAION NSFW tag, the tag treated as one more rater.

    Each label (one reviewer, one item) is paired with the item's tag. Binary
    statistics cut the tag at UNSURE (UNSURE or NSFW = harmful) and at NSFW (only
    NSFW = harmful); weighted κ puts both on a 3-point ordinal scale
    (reject < unsure < confirm against UNLIKELY < UNSURE < NSFW).
    """
    rows = labels[labels["nsfw"].isin(TAGS)]
    out: dict[str, dict[str, Any]] = {}
    ordinal = rows[rows["verdict"].isin((*HARMFUL, *BENIGN, "unsure"))]
    human3 = ordinal["verdict"].map(lambda v: "confirm" if v in HARMFUL else v)
    table3 = _pair_table(human3, ordinal["nsfw"], HUMAN_ORDINAL, TAGS)
    for weights in ("linear", "quadratic"):
        out[f"weighted_kappa_{weights}"] = table_kappa(table3, confidence, weights).as_dict()
    binary = rows[rows["verdict"].isin((*HARMFUL, *BENIGN))]
    human = binary["verdict"].map(lambda v: "harmful" if v in HARMFUL else "benign")
    for cut, harmful_tags in (("unsure", ("UNSURE", "NSFW")), ("nsfw", ("NSFW",))):
        tag = binary["nsfw"].map(lambda t, h=harmful_tags: "harmful" if t in h else "benign")
        table = _pair_table(human, tag, BINARY, BINARY)
        out[f"cohen_kappa_cut_{cut}"] = table_kappa(table, confidence).as_dict()
        out[f"percent_agreement_cut_{cut}"] = table_percent_agreement(table, confidence).as_dict()
        out[f"pabak_cut_{cut}"] = table_pabak(table, confidence).as_dict()
        counts = _ac1_counts(table)
        out[f"gwet_ac1_cut_{cut}"] = gwet_ac1(counts, confidence).as_dict()
    return out


def _ac1_counts(table: np.ndarray) -> np.ndarray:
    """Item × category counts for two raters from their 2 × 2 table (for Gwet's AC1)."""
    rows = []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            row = np.zeros(table.shape[0], dtype=int)
            row[i] += 1
            row[j] += 1
            rows.extend([row] * int(table[i, j]))
    return np.array(rows, dtype=int).reshape(-1, table.shape[0])
