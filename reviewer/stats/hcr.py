"""Hate content rate (HCR), as defined in Birhane et al. 2023, "On Hate Scaling Laws
for Data-Swamps".

HCR is the share of scored captions whose hate-speech probability reaches a
threshold: per type (``hateful``, ``targeted``, ``aggressive``) and for ``any`` of
the three. Each rate comes with Wilson and Clopper-Pearson intervals from
:func:`reviewer.stats.intervals.proportion_ci`. To compare two datasets the paper
computes HCR per source file, then tests the difference of the per-file means with
Student's and Welch's t-tests and reports Cohen's d; the *conservative* comparison
asks whether one dataset's lower confidence bound lies above the other's upper bound.

Conventions: a caption counts when its probability is strictly above the threshold
(pysentimiento labels ``p > 0.5``, the audit's P > 0.5; the hate flags use the
same ">"); captions without a score (NULL: empty caption)
are left out of both numerator and denominator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.errors import ReviewerError
from reviewer.stats.intervals import Proportion, proportion_ci

TYPES = ("hateful", "targeted", "aggressive", "any")
CURVE_THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(1, 10))


@dataclass(frozen=True)
class HcrRow:
    """HCR of one group and type at one threshold, with both intervals."""

    group: str
    type: str
    threshold: float
    wilson: Proportion
    clopper_pearson: Proportion

    def as_dict(self) -> dict[str, Any]:
        """Flat values for JSON and CSV."""
        return {
            "group": self.group,
            "type": self.type,
            "threshold": self.threshold,
            "k": self.wilson.k,
            "n": self.wilson.n,
            "hcr": self.wilson.estimate,
            "wilson_low": self.wilson.low,
            "wilson_high": self.wilson.high,
            "cp_low": self.clopper_pearson.low,
            "cp_high": self.clopper_pearson.high,
        }


def _hits(scores: pa.Table, kind: str, threshold: float) -> tuple[int, int]:
    """(captions above threshold, captions scored) for one type.

    Strictly above, as pysentimiento labels a caption (``p > 0.5``) and as the
    hate-scaling audit counted it.
    """
    cols = ("p_hateful", "p_targeted", "p_aggressive") if kind == "any" else (f"p_{kind}",)
    values = np.column_stack(
        [scores.column(c).to_numpy(zero_copy_only=False).astype(float) for c in cols]
    )
    if values.size == 0:
        return 0, 0
    scored = ~np.all(np.isnan(values), axis=1)
    with np.errstate(invalid="ignore"):
        hit = np.any(np.nan_to_num(values, nan=-1.0) > threshold, axis=1)
    return int(np.sum(hit & scored)), int(np.sum(scored))


def hcr_rows(
    scores: pa.Table, threshold: float, group: str = "all", confidence: float = 0.95
) -> list[HcrRow]:
    """HCR per type and any-of-three for one group of hate scores.

    Args:
        scores: Columns ``p_hateful``, ``p_targeted``, ``p_aggressive`` (NULL = unscored).
        threshold: Probability above which a caption counts as hateful.
        group: Label of this group (dataset or file name).
        confidence: Two-sided confidence level of the intervals.
    """
    check_threshold(threshold)
    rows = []
    for kind in TYPES:
        k, n = _hits(scores, kind, threshold)
        rows.append(
            HcrRow(
                group,
                kind,
                threshold,
                proportion_ci(k, n, "wilson", confidence),
                proportion_ci(k, n, "clopper-pearson", confidence),
            )
        )
    return rows


def check_threshold(threshold: float) -> float:
    """Thresholds are probabilities strictly between 0 and 1."""
    if not 0 < threshold < 1:
        raise ReviewerError(f"threshold {threshold}: must be between 0 and 1", "e.g. 0.5")
    return threshold


def split_groups(scores: pa.Table, by: str | None) -> dict[str, pa.Table]:
    """Split scores by a column (``dataset``, ``source_file``), or one group ``all``.

    Sorts once and slices, so millions of rows in hundreds of files stay cheap;
    NULL keys form the group ``?``.
    """
    if by is None:
        return {"all": scores}
    if by not in scores.column_names:
        raise ReviewerError(f"--by {by}: no such column", "use dataset or source_file")
    keys = pc.fill_null(scores.column(by).cast(pa.string()), "?")
    ordered = scores.set_column(scores.column_names.index(by), by, keys).sort_by(by)
    groups: dict[str, pa.Table] = {}
    offset = 0
    for item in pc.value_counts(ordered.column(by)).to_pylist():
        groups[str(item["values"])] = ordered.slice(offset, item["counts"])
        offset += item["counts"]
    return groups


def hcr_curve(
    scores: pa.Table, group: str = "all", thresholds: tuple[float, ...] = CURVE_THRESHOLDS
) -> list[HcrRow]:
    """HCR of every type at each threshold (default 0.1 ... 0.9)."""
    return [row for t in thresholds for row in hcr_rows(scores, t, group)]


@dataclass(frozen=True)
class Comparison:
    """Two datasets compared on their per-file HCRs (Birhane et al. 2023)."""

    type: str
    a: str
    b: str
    files_a: int
    files_b: int
    mean_a: float | None
    mean_b: float | None
    student_t: float | None
    student_p: float | None
    welch_t: float | None
    welch_p: float | None
    welch_df: float | None
    cohens_d: float | None
    conservative: str
    """``a > b`` / ``b > a`` when one's lower CP bound is above the other's upper, else
    ``overlap``."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return dict(self.__dict__)


def _constant(values: np.ndarray) -> bool:
    """Whether all values are equal up to floating-point noise.

    Per-file rates such as 1/3 computed in different orders differ in the last bit, so
    ``np.var(x) == 0`` misses a constant group and a t-test then reports p ≈ 1e-4 and
    d ≈ 2 for two identical groups. The spread is compared with the values' scale.
    """
    values = np.asarray(values, dtype=float)
    scale = max(float(np.abs(values).max(initial=0.0)), 1e-12)
    return float(np.ptp(values)) <= 1e-9 * scale


def cohens_d(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's d with the pooled standard deviation; ``None`` when undefined."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2 or (_constant(a) and _constant(b)):
        return None
    pooled = ((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2)
    if pooled <= 0:
        return None
    return float((np.mean(a) - np.mean(b)) / math.sqrt(pooled))


def t_tests(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """Student's and Welch's two-sample t-tests; ``None`` where undefined (n < 2, no variance)."""
    from scipy import stats

    empty: dict[str, float | None] = {
        "student_t": None,
        "student_p": None,
        "welch_t": None,
        "welch_p": None,
        "welch_df": None,
    }
    if len(a) < 2 or len(b) < 2 or (_constant(a) and _constant(b)):
        return empty
    student = stats.ttest_ind(a, b, equal_var=True)
    welch = stats.ttest_ind(a, b, equal_var=False)
    return {
        "student_t": float(student.statistic),
        "student_p": float(student.pvalue),
        "welch_t": float(welch.statistic),
        "welch_p": float(welch.pvalue),
        "welch_df": float(welch.df),
    }


def conservative_order(a: Proportion, b: Proportion) -> str:
    """``a > b`` when a's lower bound is above b's upper bound (and vice versa), else overlap."""
    if None in (a.low, a.high, b.low, b.high):
        return "undefined"
    assert a.low is not None and b.high is not None and b.low is not None and a.high is not None
    if a.low > b.high:
        return "a > b"
    if b.low > a.high:
        return "b > a"
    return "overlap"


def compare_datasets(
    scores: pa.Table, a: str, b: str, threshold: float, file_column: str = "source_file"
) -> list[Comparison]:
    """Compare datasets ``a`` and ``b`` per type: per-file HCR t-tests, d, conservative test."""
    datasets = split_groups(scores, "dataset")
    for name in (a, b):
        if name not in datasets:
            raise ReviewerError(
                f"dataset '{name}' has no hate scores", f"known: {', '.join(datasets)}"
            )
    out = []
    for kind in TYPES:
        per_file = [
            _per_file_rates(datasets[name], kind, threshold, file_column) for name in (a, b)
        ]
        pooled = [_pooled(datasets[name], kind, threshold) for name in (a, b)]
        tests = t_tests(per_file[0], per_file[1])
        out.append(
            Comparison(
                type=kind,
                a=a,
                b=b,
                files_a=len(per_file[0]),
                files_b=len(per_file[1]),
                mean_a=float(np.mean(per_file[0])) if len(per_file[0]) else None,
                mean_b=float(np.mean(per_file[1])) if len(per_file[1]) else None,
                cohens_d=cohens_d(per_file[0], per_file[1]),
                conservative=conservative_order(pooled[0], pooled[1]),
                **tests,
            )
        )
    return out


def _per_file_rates(scores: pa.Table, kind: str, threshold: float, column: str) -> np.ndarray:
    rates = []
    for part in split_groups(scores, column).values():
        k, n = _hits(part, kind, threshold)
        if n:
            rates.append(k / n)
    return np.array(rates, dtype=float)


def _pooled(scores: pa.Table, kind: str, threshold: float) -> Proportion:
    k, n = _hits(scores, kind, threshold)
    return proportion_ci(k, n, "clopper-pearson")
