"""Numbers as people read them, the same in the terminal, the report and the TUI.

An undefined statistic prints as its reason, never as NaN; a share prints as a
percentage with its interval; labels name the method of every interval.
"""

from __future__ import annotations

import math
from typing import Any

DASH = "—"

FIELD_LABELS = {
    "cohen_kappa_cut_unsure": "Cohen κ, tag ≥ UNSURE = harmful",
    "cohen_kappa_cut_nsfw": "Cohen κ, tag = NSFW = harmful",
    "weighted_kappa_linear": "weighted κ (linear), 3-level",
    "weighted_kappa_quadratic": "weighted κ (quadratic), 3-level",
    "gwet_ac1_cut_unsure": "Gwet AC1, tag ≥ UNSURE",
    "gwet_ac1_cut_nsfw": "Gwet AC1, tag = NSFW",
    "pabak_cut_unsure": "PABAK, tag ≥ UNSURE",
    "pabak_cut_nsfw": "PABAK, tag = NSFW",
    "percent_agreement_cut_unsure": "% agreement, tag ≥ UNSURE",
    "percent_agreement_cut_nsfw": "% agreement, tag = NSFW",
}

AGREEMENT_LABELS = {
    "percent_agreement": "percent agreement",
    "fleiss_kappa": "Fleiss κ",
    "gwet_ac1": "Gwet AC1",
    "krippendorff_alpha": "Krippendorff α (nominal)",
}


def defined(value: Any) -> bool:
    """Whether a value is a real number (not None, not NaN)."""
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


def pct(value: Any, digits: int = 1) -> str:
    """0.1234 → ``12.3%``; undefined → ``—``."""
    return f"{100 * value:.{digits}f}%" if defined(value) else DASH


def pct_range(low: Any, high: Any, digits: int = 1) -> str:
    """An interval of shares: ``2.2–47.1%``."""
    if not (defined(low) and defined(high)):
        return DASH
    return f"{100 * low:.{digits}f}–{100 * high:.{digits}f}%"


def num(value: Any, digits: int = 3) -> str:
    """A coefficient with fixed decimals (no ``-0.000``); undefined → ``—``."""
    if not defined(value):
        return DASH
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def estimate(entry: dict[str, Any] | None) -> str:
    """A coefficient with its interval, or ``undefined (reason)``."""
    if not entry:
        return DASH
    if not defined(entry.get("value")):
        return f"undefined ({entry.get('note') or 'no data'})"
    text = num(entry["value"])
    if defined(entry.get("low")) and defined(entry.get("high")):
        text += f" [{num(entry['low'])}, {num(entry['high'])}]"
    if entry.get("n_items"):
        text += f"  n={entry['n_items']:,}"
    return text


def seconds(value: Any) -> str:
    """Seconds with one decimal; undefined → ``—``."""
    return f"{value:.1f}" if defined(value) else DASH
