"""Per-reviewer workload and exposure: how much each person labelled, how fast, how much they saw.

Auditing harmful content harms reviewers; a lead needs to see who has carried
most of the exposure (reveals, seconds revealed, breaks skipped), next to
throughput, to spread the load.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

VERDICTS = ("confirm", "reject", "unsure", "skip", "escalate")
EXPOSURE = {"reveal": "reveals", "break_taken": "breaks_taken",
            "break_snoozed": "breaks_snoozed", "cap_reached": "caps_reached"}


def reviewer_rows(labels: pd.DataFrame, exposure: pa.Table) -> list[dict[str, Any]]:
    """One row per reviewer: labels, items, verdicts, seconds per item, exposure.

    Args:
        labels: Current labels (``reviewer, sample_id, verdict, seconds_on_item``).
        exposure: Exposure events (``reviewer, session_id, kind, seconds``).
    """
    frame = pd.DataFrame({
        "reviewer": labels["reviewer"].astype(str).to_numpy(),
        "sample_id": labels["sample_id"].to_numpy(),
        "verdict": labels["verdict"].astype(str).to_numpy(),
        "seconds": labels["seconds_on_item"].to_numpy(dtype=float),
    })
    by = frame.groupby("reviewer")
    verdicts = pd.crosstab(frame["reviewer"], frame["verdict"])
    events = exposure.to_pandas()
    kinds = (pd.crosstab(events["reviewer"], events["kind"]) if len(events.index)
             else pd.DataFrame())
    revealed = (events[events["kind"] == "revealed_seconds"].groupby("reviewer")["seconds"].sum()
                if len(events.index) else pd.Series(dtype=float))
    sessions = (events.groupby("reviewer")["session_id"].nunique() if len(events.index)
                else pd.Series(dtype=int))
    names = sorted(set(frame["reviewer"]) | set(events["reviewer"] if len(events.index) else []))
    stats = {
        "labels": by.size(), "items": by["sample_id"].nunique(),
        "median": by["seconds"].median(), "total": by["seconds"].sum(min_count=1),
    }
    rows = []
    for name in names:
        row: dict[str, Any] = {
            "reviewer": name,
            "labels": int(stats["labels"].get(name, 0)),
            "items": int(stats["items"].get(name, 0)),
            **{v: int(verdicts.at[name, v]) if name in verdicts.index and v in verdicts.columns
               else 0 for v in VERDICTS},
            "median_seconds": _number(stats["median"].get(name)),
            "total_minutes": _minutes(stats["total"].get(name)),
            "sessions": int(sessions.get(name, 0)),
            "revealed_seconds": float(revealed.get(name, 0.0)),
        }
        for kind, key in EXPOSURE.items():
            row[key] = int(kinds.at[name, kind]) if name in kinds.index and kind in kinds.columns \
                else 0
        rows.append(row)
    return rows


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _minutes(value: Any) -> float | None:
    seconds = _number(value)
    return None if seconds is None else seconds / 60
