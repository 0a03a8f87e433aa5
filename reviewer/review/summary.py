"""What a reviewing session amounted to: shown on quit and printed by the CLI.

A reviewer who sees, at the end of a session, how many images they revealed and how
long they looked at them can judge their own exposure; an audit lead reads the same
numbers in the exposure log.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.images.blur import RevealStep, step_label
from reviewer.review.wellbeing import Exposure


@dataclass
class Summary:
    """What a session amounted to, shown when the reviewer quits."""

    reviewer: str
    session_id: str
    decisions: int
    verdicts: dict[str, int]
    wall_seconds: float
    exposure: Exposure
    remaining: int
    propagated: int = 0
    """Decisions propagated to near-duplicate group members (``g``)."""
    unrevealed: int = 0
    """Decisions taken without revealing the image."""
    unsaved: str | None = None
    """What could not be saved (a full disk), with why; ``None`` when everything was."""

    def lines(self) -> list[str]:
        """The summary as short lines of plain text."""
        e = self.exposure
        deepest = f" (deepest: {step_label(RevealStep(e.max_depth))})" if e.reveals else ""
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(self.verdicts.items())) or "none"
        lines = [
            f"Reviewer {self.reviewer}: {_count(self.decisions, 'decision')} ({verdicts})",
            f"Time: {e.active_seconds / 60:.1f} min active, {self.wall_seconds / 60:.1f} min open",
            f"Exposure: {_count(e.reveals, 'reveal')}{deepest}, "
            f"{e.revealed_seconds:.0f} s revealed, {e.confirmed} confirmed harmful",
            f"Seen to decide: {_per(e.reveals, self.decisions)} reveals per decision, "
            f"{_share(self.unrevealed, self.decisions)} of decisions with no reveal, "
            f"{e.full_colour_seconds:.0f} s in full colour, "
            f"{_count(self.propagated, 'decision')} propagated to near-duplicates",
            f"Breaks: {e.breaks_taken} taken, {e.breaks_snoozed} snoozed",
            f"Left in this queue: {self.remaining}",
        ]
        if self.unsaved:
            lines.append(f"NOT saved: {self.unsaved}; every decision counted above was saved")
        return lines


def _count(n: int, noun: str) -> str:
    """``1 decision``, ``2 decisions``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _per(count: int, decisions: int) -> str:
    return f"{count / decisions:.2f}" if decisions else "–"


def _share(count: int, decisions: int) -> str:
    return f"{100 * count / decisions:.0f}%" if decisions else "–"
