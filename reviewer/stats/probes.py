"""Probe statistics: what each probe's top K holds, compared across probes (issue 15).

The 2021 LAION-400M audit's method, made reproducible: for each probe ("desi",
"aunty", "Latina" …) the share of its top K that reviewers judged harmful, with
an interval, next to the share the dataset itself tagged NSFW or UNSURE and the
keyword and hate flags among the same items. Comparing these across probes is
the audit's finding: the NSFW tag let through what people judged harmful.

A probe's top K is not a random sample of anything, so these are descriptive
shares of the K items (with binomial intervals for the judged share, as the
audit reported its counts), never weighted to the dataset.

"Judged harmful": an item with at least one standing ``confirm`` label; judged
benign: ``reject`` labels and no ``confirm``; ``unsure``/``skip`` only: not judged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from reviewer.stats.intervals import proportion_ci


def probe_rows(
    items: pd.DataFrame, probes: list[Any], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """One row per probe (newest first, as ``probes`` lists them).

    Args:
        items: :meth:`reviewer.store.probes.ProbeQueries.item_table` as pandas.
        probes: :class:`~reviewer.store.probes.ProbeInfo` of every probe.
        confidence: Level of the interval on the judged-harmful share.
    """
    rows = []
    for info in probes:
        mine = items[items["probe"] == info.name] if not items.empty else items
        k = len(mine)
        judged = int(mine["harmful"].notna().sum()) if k else 0
        harmful = int((mine["harmful"] == True).sum()) if k else 0  # noqa: E712 (nullable)
        share = proportion_ci(harmful, judged, confidence=confidence)
        rows.append(
            {
                "probe": info.name,
                "kind": info.kind,
                "query": info.query,
                "category": info.category,
                "items": k,
                "judged": judged,
                "harmful": harmful,
                "harmful_share": share.estimate,
                "harmful_low": share.low,
                "harmful_high": share.high,
                "tag_nsfw": _share(mine, mine["nsfw"] == "NSFW") if k else None,
                "tag_unsure": _share(mine, mine["nsfw"] == "UNSURE") if k else None,
                "keyword": _share(mine, mine["keyword"]) if k else None,
                "hate": _share(mine, mine["hate"]) if k else None,
                "top_similarity": float(mine["similarity"].max()) if k else None,
                "min_similarity": float(mine["similarity"].min()) if k else None,
            }
        )
    return rows


def _share(frame: pd.DataFrame, mask: pd.Series) -> float:
    return float(mask.fillna(False).astype(bool).sum()) / len(frame)
