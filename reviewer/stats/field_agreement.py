"""Human verdicts against the dataset's CLIP NSFW field, an ordinal machine rater.

LAION-400M tags each sample ``UNLIKELY`` < ``UNSURE`` < ``NSFW``. Reviewers say
``confirm`` (harmful), ``reject`` (benign), ``unsure``, ``skip`` or ``escalate``.
The mapping, and why:

- Binary statistics: confirm = harmful, reject = benign (the audit's rule). ``unsure``
  and ``skip`` carry no yes/no answer, so they are left out and counted. ``escalate``
  means possibly illegal content, which is harmful a fortiori: it counts as confirm
  (and is counted separately too).
- The field is binarised at both cut points: ``NSFW`` only, and ``UNSURE`` + ``NSFW``.
- Ordinal statistics (weighted κ): reject < unsure < confirm against
  UNLIKELY < UNSURE < NSFW. ``unsure`` is the human middle, as ``UNSURE`` is the
  field's: a reviewer who hesitates is one step, not two, from either answer. ``skip``
  stays out (the reviewer chose not to judge).
- Tags other than the three (empty, corrupt) are N/A: counted, never compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from reviewer.stats import gwet, kappa
from reviewer.stats.coefficient import Estimate
from reviewer.stats.intervals import Proportion, proportion_ci

HUMAN = ("reject", "unsure", "confirm")
FIELD = ("UNLIKELY", "UNSURE", "NSFW")
CUTS = {"NSFW": 2, "UNSURE+NSFW": 1}


@dataclass(frozen=True)
class BinaryAgreement:
    """Agreement of confirm/reject with the field binarised at one cut point."""

    cut: str
    n: int
    table: list[list[int]]
    percent_agreement: Estimate
    cohen_kappa: Estimate
    gwet_ac1: Estimate
    pabak: Estimate

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output; table rows: human benign/harmful, columns: field."""
        return {
            "cut": self.cut,
            "n": self.n,
            "table": self.table,
            **{
                e.statistic: e.as_dict()
                for e in (self.percent_agreement, self.cohen_kappa, self.gwet_ac1, self.pabak)
            },
        }


@dataclass(frozen=True)
class FieldAgreement:
    """Everything known about how well the NSFW field agrees with people.

    Attributes:
        table: verdict (confirm/reject/unsure) → tag → count; escalations count as confirm.
        confirmed_share: Per tag, confirmed / (confirmed + rejected) with a Wilson interval.
        binary: Per cut point (``NSFW``, ``UNSURE+NSFW``), κ, AC1, PABAK, p_o.
        weighted: ``linear`` and ``quadratic`` weighted κ on the 3 × 3 ordinal table.
        counts: Decisions in total, and those left out or remapped: ``unsure``, ``skip``,
            ``escalate``, ``na_tag`` (tag not one of the three), ``unknown_verdict``.
    """

    table: dict[str, dict[str, int]]
    confirmed_share: dict[str, Proportion]
    binary: dict[str, BinaryAgreement]
    weighted: dict[str, Estimate]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {
            "table": self.table,
            "confirmed_share": {t: p.as_dict() for t, p in self.confirmed_share.items()},
            "binary": {c: b.as_dict() for c, b in self.binary.items()},
            "weighted_kappa": {k: e.as_dict() for k, e in self.weighted.items()},
            "counts": self.counts,
        }


def verdict_vs_field(
    rows: pa.Table | Sequence[tuple[Any, Any, Any]] | Any,
    *,
    verdict: str = "verdict",
    tag: str = "tag",
    confidence: float = 0.95,
) -> FieldAgreement:
    """Compare human verdicts with the NSFW field tag of the same items.

    Args:
        rows: One row per human decision: a table (or DataFrame) with ``verdict`` and
            ``tag`` columns, or ``(item, verdict, tag)`` tuples. When several reviewers
            judged one item each decision counts; pass one verdict per item (e.g. the
            consensus) for intervals that assume independent items.
        verdict: Name of the verdict column.
        tag: Name of the tag column.
        confidence: Two-sided level of every interval.
    """
    verdicts, tags = _columns(rows, verdict, tag)
    grid = np.zeros((3, 3), dtype=np.int64)
    counts = dict.fromkeys(
        ("decisions", "unsure", "skip", "escalate", "na_tag", "unknown_verdict"), 0
    )
    for v_raw, t_raw in zip(verdicts, tags, strict=True):
        counts["decisions"] += 1
        v = str(v_raw).strip().lower() if v_raw is not None else ""
        t = str(t_raw).strip().upper() if t_raw is not None else ""
        if v == "escalate":
            counts["escalate"] += 1
            v = "confirm"
        if v in ("skip", "unsure"):
            counts[v] += 1
        elif v not in HUMAN:
            counts["unknown_verdict"] += 1
            continue
        if v == "skip":
            continue
        if t not in FIELD:
            counts["na_tag"] += 1
            continue
        grid[HUMAN.index(v), FIELD.index(t)] += 1
    return _summarise(grid, counts, confidence)


def _columns(rows: Any, verdict: str, tag: str) -> tuple[list[Any], list[Any]]:
    """Verdict and tag values from a table, DataFrame or tuples."""
    if type(rows).__module__.startswith("pandas"):
        rows = pa.Table.from_pandas(rows, preserve_index=False)
    if isinstance(rows, pa.Table):
        return rows.column(verdict).to_pylist(), rows.column(tag).to_pylist()
    items = list(rows)
    return [r[1] for r in items], [r[2] for r in items]


def _summarise(grid: np.ndarray, counts: dict[str, int], confidence: float) -> FieldAgreement:
    """Statistics of the 3 × 3 verdict × tag grid (rows reject, unsure, confirm)."""
    table = {
        h: {f: int(grid[i, j]) for j, f in enumerate(FIELD)}
        for i, h in sorted(enumerate(HUMAN), key=lambda p: -p[0])
    }
    shares = {
        f: proportion_ci(int(grid[2, j]), int(grid[2, j] + grid[0, j]), "wilson", confidence)
        for j, f in enumerate(FIELD)
    }
    binary = {cut: _binary(grid, cut, at, confidence) for cut, at in CUTS.items()}
    weighted = {w: kappa.table_kappa(grid, confidence, w) for w in kappa.WEIGHTS}
    return FieldAgreement(table, shares, binary, weighted, counts)


def _binary(grid: np.ndarray, cut: str, at: int, confidence: float) -> BinaryAgreement:
    """2 × 2 table (human reject/confirm × field below/at-or-above ``at``) and its statistics."""
    decided = grid[[0, 2], :]
    two = np.stack([decided[:, :at].sum(1), decided[:, at:].sum(1)], axis=1)
    ac1 = gwet.gwet_ac1(_pairs_as_counts(two), confidence)
    return BinaryAgreement(
        cut=cut,
        n=int(two.sum()),
        table=two.tolist(),
        percent_agreement=kappa.table_percent_agreement(two, confidence),
        cohen_kappa=kappa.table_kappa(two, confidence),
        gwet_ac1=ac1,
        pabak=kappa.table_pabak(two, confidence),
    )


def _pairs_as_counts(table: np.ndarray) -> np.ndarray:
    """A two-rater q × q table as item × category counts (one row per item)."""
    q = table.shape[0]
    a, b = np.divmod(np.arange(q * q), q)
    patterns = np.zeros((q * q, q))
    np.add.at(patterns, (np.arange(q * q), a), 1)
    np.add.at(patterns, (np.arange(q * q), b), 1)
    return np.repeat(patterns, np.asarray(table).reshape(-1).astype(np.int64), axis=0)
