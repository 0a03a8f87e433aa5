"""Per-reviewer workload and exposure: how much each person labelled, how fast, how much they saw.

Auditing harmful content harms reviewers; a lead needs to see who has carried
most of the exposure (reveals, seconds revealed, breaks skipped), next to
throughput, to spread the load.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa


def reviewer_rows(labels: pd.DataFrame, exposure: pa.Table) -> list[dict[str, Any]]:
    """One row per reviewer: labels, items, verdicts, seconds per item, exposure.

    Args:
        labels: Current labels (``reviewer, sample_id, verdict, seconds_on_item``).
        exposure: Exposure events (``reviewer, session_id, kind, seconds``).
    """
    events = exposure.to_pandas()
    rows = []
    for name in sorted(set(labels["reviewer"]) | set(events.get("reviewer", []))):
        mine = labels[labels["reviewer"] == name]
        seconds = mine["seconds_on_item"].dropna()
        seen = events[events["reviewer"] == name] if not events.empty else events
        kinds = seen["kind"].value_counts() if not seen.empty else pd.Series(dtype=int)
        revealed = seen.loc[seen["kind"] == "revealed_seconds", "seconds"] if not seen.empty \
            else pd.Series(dtype=float)
        counts = mine["verdict"].value_counts()
        rows.append({
            "reviewer": name,
            "labels": len(mine.index),
            "items": int(mine["sample_id"].nunique()),
            "confirm": int(counts.get("confirm", 0)),
            "reject": int(counts.get("reject", 0)),
            "unsure": int(counts.get("unsure", 0)),
            "skip": int(counts.get("skip", 0)),
            "escalate": int(counts.get("escalate", 0)),
            "median_seconds": float(seconds.median()) if len(seconds) else None,
            "total_minutes": float(seconds.sum()) / 60 if len(seconds) else None,
            "sessions": int(seen["session_id"].nunique()) if not seen.empty else 0,
            "reveals": int(kinds.get("reveal", 0)),
            "revealed_seconds": float(revealed.sum()) if len(revealed) else 0.0,
            "breaks_taken": int(kinds.get("break_taken", 0)),
            "breaks_snoozed": int(kinds.get("break_snoozed", 0)),
            "caps_reached": int(kinds.get("cap_reached", 0)),
        })
    return rows
