"""Exposure figures: how much people saw to decide, and how much they never had to see.

The human cost of an audit is what reviewers see. These figures come from the
label store alone (decision events, the exposure log, the quarantine):

- reveals per decision, and the share of decisions taken with no reveal at all
  (no ``reveal`` in the exposure log for that reviewer and item);
- items never rendered because a known-content list matched them before anyone
  revealed them (``reviewer match``);
- decisions propagated to near-duplicate groups (``g``), which nobody had to see;
- seconds of full-colour exposure per reviewer per day.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa


def exposure_figures(
    events: pa.Table, exposure: pa.Table, quarantine: pa.Table, propagated: int
) -> dict[str, Any]:
    """The figures above, JSON-ready (``None`` where undefined, e.g. no decisions yet).

    Args:
        events: Every decision event (:meth:`LabelStore.events`).
        exposure: The exposure log (:meth:`LabelStore.exposure`).
        quarantine: ``sample_id, reason`` of quarantined samples.
        propagated: Standing decisions propagated to group members.
    """
    ev = events.select(["sample_id", "reviewer", "verdict", "propagated_from"]).to_pandas()
    log = exposure.to_pandas()
    own = ev[(ev["verdict"] != "undo") & ev["propagated_from"].isna()]
    decisions = len(own.index)
    shown = log[log["kind"] == "reveal"] if len(log.index) else log
    reveals = len(shown.index)
    revealed_ids = set(shown["sample_id"]) if reveals else set()
    seen_by = set(zip(shown["reviewer"], shown["sample_id"], strict=True)) if reveals else set()
    unrevealed = sum(
        (r, s) not in seen_by for r, s in zip(own["reviewer"], own["sample_id"], strict=True)
    )
    reasons = quarantine.to_pandas()
    listed = reasons[reasons["reason"].astype(str).str.startswith("list:")]
    return {
        "decisions": decisions,
        "reveals": reveals,
        "reveals_per_decision": reveals / decisions if decisions else None,
        "no_reveal_share": unrevealed / decisions if decisions else None,
        "never_rendered_listed": int((~listed["sample_id"].isin(revealed_ids)).sum()),
        "propagated_decisions": propagated,
        "full_colour_seconds": _full_colour_by_day(log),
    }


def _full_colour_by_day(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Seconds in full colour per reviewer and (UTC) day, from the exposure log."""
    if not len(log.index):
        return []
    colour = log[log["kind"] == "full_colour_seconds"].copy()
    if not len(colour.index):
        return []
    colour["day"] = colour["created_at"].astype(str).str[:10]
    sums = colour.groupby(["reviewer", "day"])["seconds"].sum()
    return [{"reviewer": r, "day": d, "seconds": float(s)} for (r, d), s in sums.items()]


def exposure_rows(figures: dict[str, Any]) -> list[list[str]]:
    """``[figure, value]`` rows: the one formatting of the figures every view uses."""
    per, share = figures["reveals_per_decision"], figures["no_reveal_share"]
    rows = [
        ["decisions", f"{figures['decisions']:,}"],
        ["reveals", f"{figures['reveals']:,}"],
        ["reveals per decision", f"{per:.2f}" if per is not None else "–"],
        ["decisions with no reveal", f"{100 * share:.0f}%" if share is not None else "–"],
        ["items never rendered because a list matched", f"{figures['never_rendered_listed']:,}"],
        ["decisions propagated to near-duplicate groups",
         f"{figures['propagated_decisions']:,}"],
    ]
    rows += [[f"full-colour seconds, {r['reviewer']} on {r['day']}", f"{r['seconds']:.0f}"]
             for r in figures["full_colour_seconds"]]
    return rows


def exposure_lines(figures: dict[str, Any]) -> list[str]:
    """The figures as plain text lines for ``reviewer stats``."""
    if not figures:
        return []
    rows = exposure_rows(figures)
    width = max(len(name) for name, _ in rows)
    return ["Exposure: seen to decide", *(f"  {name:<{width}}  {value}" for name, value in rows)]
