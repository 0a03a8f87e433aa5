"""Stratified review samples with known inclusion probabilities, and sample-size planning.

Precision estimated from a convenience sample (the first items flagged, or the
items someone happened to open) means nothing for the dataset. A plan draws a
simple random sample of ``n_h`` items from every stratum ``h`` (a flag set, an
NSFW tag, a punsafe band, a score band), records ``N_h`` and the inclusion
probability ``n_h / N_h``, and so lets :mod:`reviewer.stats.precision` weight
each label back to the population. A control stratum of *unflagged* items
estimates what the filters miss.

The draw itself runs in DuckDB (:meth:`reviewer.store.plans.PlanQueries.create`),
seeded by hashing ``sample_id`` with the seed: the same seed gives the same queue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.stats.allocation import (
    CANDIDATE_QUANTILES,
    NOISE_LIMIT,
    choose_bands,
    interval_allocation,
    quantile_cuts,
)
from reviewer.store.connection import Progress
from reviewer.store.plans import DrawRequest, PlanInfo
from reviewer.store.strata import check_flag, stratum_expression

DEFAULT_BANDS = (0.5, 0.7, 0.9)

MAX_PER_STRATUM = 999_999
"""Most items one stratum (or the control) may draw: DuckDB's ``min_by(x, h, n)``, which
draws them, refuses larger ``n``, and no team labels a million items of one stratum."""

SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
"""A plan's seed is stored as a DuckDB BIGINT."""


def check_strata(strata: Sequence[str], bands: Sequence[float]) -> None:
    """Refuse an empty or repeated ``--strata`` and ``--bands`` outside (0, 1).

    Shared by ``reviewer sample`` and ``reviewer plan``, so both answer the same bad
    options with the same line instead of an SQL error from an empty stratum label.
    """
    if not strata:
        raise ReviewerError("--strata is empty", "e.g. --strata flag or --strata nsfw")
    repeated = next((key for i, key in enumerate(strata) if key in strata[:i]), None)
    if repeated is not None:
        raise ReviewerError(
            f"--strata lists '{repeated}' twice", "name each key once, e.g. --strata flag,nsfw"
        )
    if any(not 0 < b < 1 for b in bands):
        raise ReviewerError(
            f"--bands {','.join(f'{b:g}' for b in bands)}: cut points must lie strictly "
            "between 0 and 1",
            "e.g. --bands 0.5,0.7,0.9",
        )


@dataclass(frozen=True)
class SampleSpec:
    """The options of ``reviewer sample``.

    Attributes:
        name: Plan (and queue) name.
        strata: Stratification keys, crossed: ``flag``, ``nsfw``, ``punsafe``, ``dataset``,
            ``score:FLAG``.
        per_stratum: Items drawn per stratum (all of a smaller stratum).
        control: Unflagged items drawn as a control stratum; with a control, the other
            strata are drawn from flagged items only, so strata and control partition
            the dataset.
        seed: Seed of the draw and of the queue order.
        reviewers: Reviewers to share the queue among (empty: everybody sees it all).
        overlap: How many reviewers see each overlap item (for agreement statistics).
        overlap_share: Share of the queue (from its start) that is overlapped.
        bands: Score band cut points for ``score:FLAG`` strata.
    """

    name: str
    strata: tuple[str, ...] = ("flag",)
    per_stratum: int = 100
    control: int = 0
    seed: int = 0
    reviewers: tuple[str, ...] = ()
    overlap: int = 1
    overlap_share: float = 1.0
    bands: tuple[float, ...] = DEFAULT_BANDS

    def check(self) -> None:
        """Raise a user error for inconsistent options."""
        if not self.name.strip():
            raise ReviewerError("--name is empty", "name the plan, e.g. --name pilot")
        if not 1 <= self.per_stratum <= MAX_PER_STRATUM:
            raise ReviewerError(
                f"--per-stratum {self.per_stratum}: must be between 1 and {MAX_PER_STRATUM:,}"
            )
        if not 0 <= self.control <= MAX_PER_STRATUM:
            raise ReviewerError(
                f"--control {self.control}: must be between 0 and {MAX_PER_STRATUM:,}"
            )
        if not SEED_MIN <= self.seed <= SEED_MAX:
            raise ReviewerError(
                f"--seed {self.seed}: out of range",
                "use a seed that fits in 64 bits, e.g. --seed 7",
            )
        check_strata(self.strata, self.bands)
        if len(set(self.reviewers)) != len(self.reviewers):
            raise ReviewerError("--reviewers lists a name twice")
        if self.overlap < 1 or (self.reviewers and self.overlap > len(self.reviewers)):
            raise ReviewerError(
                f"--overlap {self.overlap}: must be between 1 and the number of reviewers",
                "list the reviewers with --reviewers a,b,c",
            )
        if self.overlap > 1 and not self.reviewers:
            raise ReviewerError("--overlap needs --reviewers", "e.g. --reviewers ana,ben")
        if not 0 <= self.overlap_share <= 1:
            raise ReviewerError(f"--overlap-share {self.overlap_share}: must be in [0, 1]")


def stratum_sql(audit: Audit, strata: Sequence[str], bands: Sequence[float]) -> str:
    """The SQL label of a sample's stratum: the keys' labels joined with `` | ``."""
    parts = [stratum_expression(key, audit.settings, bands) for key in strata]
    return " || ' | ' || ".join(f"({p})" for p in parts)


def draw_plan(
    audit: Audit, spec: SampleSpec, replace: bool = False, progress: Progress | None = None
) -> PlanInfo:
    """Draw and store a plan; return it as listed by ``store.plans.all()``."""
    spec.check()
    flagged_only = spec.control > 0 or "flag" in spec.strata
    request = DrawRequest(
        name=spec.name,
        seed=spec.seed,
        stratum_sql=stratum_sql(audit, spec.strata, spec.bands),
        per_stratum=spec.per_stratum,
        flagged_only=flagged_only,
        control=spec.control,
        spec=_spec_dict(spec, flagged_only),
    )
    audit.store.plans.create(
        request, spec.strata, audit.settings, replace=replace, progress=progress
    )
    return audit.store.plans.get(spec.name)


def _spec_dict(spec: SampleSpec, flagged_only: bool) -> dict[str, object]:
    return {
        "strata": list(spec.strata),
        "per_stratum": spec.per_stratum,
        "control": spec.control,
        "seed": spec.seed,
        "reviewers": list(spec.reviewers),
        "overlap": spec.overlap,
        "overlap_share": spec.overlap_share,
        "bands": list(spec.bands),
        "flagged_only": flagged_only,
    }


# ---- sample size ---------------------------------------------------------------------


@dataclass(frozen=True)
class SizeNeed:
    """Labels needed in one stratum for a ±margin interval."""

    stratum: str
    population: int
    n_infinite: float
    needed: int


def z_value(confidence: float) -> float:
    """The two-sided normal quantile z_{1-α/2} (1.95996… for 95 %)."""
    if not 0 < confidence < 1:
        raise ReviewerError(f"--confidence {confidence}: must be between 0 and 1")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def sample_size(
    margin: float, confidence: float = 0.95, expected: float = 0.5, population: int | None = None
) -> tuple[float, int]:
    """Labels needed to estimate a proportion within ±margin (Cochran 1977, eqs. 4.1-4.2).

    n0 = z² p (1 − p) / m², and with a finite population N the correction
    n = n0 / (1 + (n0 − 1) / N), rounded up. p = 0.5 is the conservative choice.

    Returns:
        (n0 unrounded, n rounded up and capped at N).
    """
    if not 0 < margin < 1:
        raise ReviewerError(f"--margin {margin}: must be between 0 and 1", "e.g. --margin 0.05")
    if not 0 < expected < 1:
        raise ReviewerError(f"--expected {expected}: must be strictly between 0 and 1")
    z = z_value(confidence)
    n0 = z * z * expected * (1 - expected) / (margin * margin)
    if population is None:
        return n0, math.ceil(n0 - 1e-9)
    if population <= 0:
        return n0, 0
    n = n0 / (1 + (n0 - 1) / population)
    return n0, min(population, math.ceil(n - 1e-9))


def plan_sizes(
    audit: Audit,
    strata: Sequence[str],
    margin: float,
    confidence: float,
    expected: float,
    flagged_only: bool,
    bands: Sequence[float] = DEFAULT_BANDS,
    progress: Progress | None = None,
) -> list[SizeNeed]:
    """Labels needed per stratum of the audit for a ±margin interval on its proportion."""
    check_strata(strata, bands)
    sql = stratum_sql(audit, strata, bands)
    # Two halves of one bar: counting the strata in DuckDB, then each stratum's search.
    counting = None if progress is None else (lambda done, _: progress(done // 2, 100))
    populations = audit.store.plans.stratum_populations(
        sql, strata, audit.settings, flagged_only, progress=counting
    )
    needs = []
    for i, (stratum, population) in enumerate(populations, start=1):
        n0, _ = sample_size(margin, confidence, expected, population)
        needed = interval_sample_size(margin, confidence, expected, population)
        needs.append(SizeNeed(stratum, population, n0, needed))
        if progress is not None:
            progress(50 + 50 * i // len(populations), 100)
    return needs


ASSURANCE = 0.95
"""Share of draws whose printed interval must be no wider than ±margin."""


def interval_sample_size(
    margin: float, confidence: float = 0.95, expected: float = 0.5, population: int = 10**9,
    assurance: float = ASSURANCE,
) -> int:
    """Labels for which the interval ``reviewer stats`` prints is within ±margin.

    Cochran's n makes the *normal* interval ±margin on average; the Korn–Graubard
    interval ``stats`` prints is wider (issue 11: ±0.058 where ±0.05 was planned). So:
    the smallest n such that, when the stratum's share is ``expected``, the printed
    interval's half-width (high − low)/2 is ≤ margin with probability ≥ ``assurance``,
    computed exactly over the hypergeometric distribution of positives in the draw.
    """
    from scipy.stats import binom, hypergeom

    from reviewer.stats.design import StratumSums, ratio_arrays

    sample_size(margin, confidence, expected)  # the same checks and messages
    if population <= 0:
        return 0
    positives = round(expected * population)

    def enough(n: int) -> bool:
        k = np.arange(n + 1)
        # The binomial is the hypergeometric's limit; it is far cheaper for N ≫ n.
        weight = (binom(n, expected).pmf(k) if population > 1000 * n
                  else hypergeom(population, positives, n).pmf(k))
        sums = StratumSums(np.full((n + 1, 1), population), np.full((n + 1, 1), n),
                           k[:, None], np.full((n + 1, 1), n))
        _, low, high, _, _ = ratio_arrays(sums, confidence)
        return float(weight[(high - low) / 2 <= margin + 1e-12].sum()) >= assurance

    low_n = max(1, sample_size(margin, confidence, expected, population)[1])
    if enough(low_n):
        return low_n
    high_n = low_n
    while not enough(high_n):
        if high_n >= population:
            return population
        low_n, high_n = high_n, min(population, high_n * 2)
    while high_n - low_n > 1:
        mid = (low_n + high_n) // 2
        low_n, high_n = (low_n, mid) if enough(mid) else (mid, high_n)
    return high_n


# ---- label budgets -------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSpec:
    """``reviewer sample --budget B --target T [--using SCORE]``.

    Attributes:
        name: Plan name.
        budget: Labels to spend.
        target: ``prevalence`` or ``precision:FLAG``.
        using: The flag whose score guides the allocation (default: FLAG of the target).
        seed: Seed of the draw.
    """

    name: str
    budget: int
    target: str
    using: str | None = None
    seed: int = 0

    def score_flag(self) -> str:
        """The score that guides the allocation; a user error when none is named."""
        if self.using:
            return self.using
        if self.target.startswith("precision:"):
            return self.target.split(":", 1)[1]
        raise ReviewerError("--target prevalence needs --using SCORE",
                            "e.g. --using clip_nsfw (a flag whose score rises with harm)")

    def check(self) -> None:
        """Raise a user error for inconsistent options."""
        if not self.name.strip():
            raise ReviewerError("--name is empty", "name the plan, e.g. --name budget1")
        if not 2 <= self.budget <= MAX_PER_STRATUM:
            raise ReviewerError(f"--budget {self.budget}: must be between 2 and"
                                f" {MAX_PER_STRATUM:,}")
        if self.target != "prevalence" and not (
            self.target.startswith("precision:") and self.target.split(":", 1)[1]
        ):
            raise ReviewerError(f"--target {self.target}: unknown target",
                                "use prevalence or precision:FLAG, e.g. precision:keyword")


def draw_budget_plan(
    audit: Audit, spec: BudgetSpec, replace: bool = False, progress: Progress | None = None
) -> PlanInfo:
    """Spend a label budget where it narrows the target's interval most, and store the plan.

    Strata are bands of the guiding score cut at its quantiles over the target's domain,
    crossed with the flag set for a precision target, whose other flag sets get no labels.
    The cut set (:data:`~reviewer.stats.allocation.CANDIDATE_QUANTILES`) and the labels per
    band are those whose predicted interval — the one ``reviewer stats`` prints, with its
    per-band floor, at each band's mean score as its guessed rate — is narrowest, guarded
    against a noise score (:mod:`reviewer.stats.allocation`). The design (strata, N_h,
    inclusion probabilities) is recorded like any plan's, so ``reviewer stats`` estimates
    the target design-based and reports how many simple-random-sample labels would give
    the same interval.
    """
    spec.check()
    flag = spec.score_flag()
    keys = (("flag",) if spec.target != "prevalence" else ()) + (f"score:{flag}",)
    if spec.using:  # before any SQL, naming the option the flag came from
        check_flag(flag, f"--using {flag}", "e.g. --using clip_nsfw")
    else:
        check_flag(flag, f"--target {spec.target}", "e.g. --target precision:keyword")
    flagged_only = spec.target != "prevalence"
    level, cuts = _choose_cuts(audit, spec, keys, flag)
    sql = stratum_sql(audit, keys, cuts)
    rows = audit.store.plans.stratum_scores(sql, keys, audit.settings, flag, flagged_only)
    domain = [r for r in rows if _in_target(r[0], spec.target)]
    counts = interval_allocation([n for _, n, _ in domain], [_guess(m) for _, _, m in domain],
                                 spec.budget)
    allocation = {h: int(c) for (h, _, _), c in zip(domain, counts, strict=True)}
    request = DrawRequest(
        name=spec.name, seed=spec.seed, stratum_sql=sql, per_stratum=max(1, max(counts)),
        flagged_only=flagged_only, control=0, allocation=allocation,
        spec={"strata": list(keys), "bands": list(cuts), "quantiles": list(level),
              "seed": spec.seed, "budget": spec.budget, "target": spec.target, "using": flag,
              "allocation": "interval", "noise_limit": NOISE_LIMIT,
              "flagged_only": flagged_only, "control": 0, "reviewers": []},
    )
    audit.store.plans.create(request, keys, audit.settings, replace=replace, progress=progress)
    return audit.store.plans.get(spec.name)


def _guess(mean: float | None) -> float:
    """A band's guessed harm rate: its mean score; 0.5 (nothing known) where unscored."""
    return 0.5 if mean is None else mean


def _choose_cuts(
    audit: Audit, spec: BudgetSpec, keys: tuple[str, ...], flag: str
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The candidate quantile set (and its cuts) whose allocation predicts the narrowest
    interval: the score's quantiles once, one pass counting items per finest band, then
    every candidate's bands regrouped from those counts (no pass per candidate)."""
    domain_flag = spec.target.split(":", 1)[1] if spec.target != "prevalence" else None
    levels = sorted({q for candidate in CANDIDATE_QUANTILES for q in candidate})
    values = dict(zip(levels, audit.store.plans.score_quantiles(
        keys, audit.settings, flag, levels, domain_flag), strict=False))
    if not values:
        if domain_flag and audit.store.plans.score_quantiles(keys, audit.settings, flag, [0.5]):
            raise ReviewerError(f"--target {spec.target}: no item raises that flag",
                                "check the flag name (see `reviewer stats`)")
        raise ReviewerError(f"--using {flag}: no complete flag run provides this score",
                            "run `reviewer flag` with the flagger that scores it first")
    finest = quantile_cuts(list(values.values()))
    rows = audit.store.plans.score_histogram(keys, audit.settings, flag, finest, domain_flag)
    options = [(level, quantile_cuts([values[q] for q in level if q in values]))
               for level in CANDIDATE_QUANTILES]
    best, _ = choose_bands([_regroup(rows, finest, cuts) for _, cuts in options], spec.budget)
    return options[best]


def _regroup(
    rows: list[tuple[str | None, int, int, float | None]], finest: tuple[float, ...],
    cuts: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """N_h and guessed rate of each (flag set, band) stratum for ``cuts`` ⊆ ``finest``."""
    lower = np.asarray((0.0, *finest))
    totals: dict[tuple[str | None, int], list[float]] = {}
    for flagset, band, n, mean in rows:
        coarse = -1 if band < 0 else int(np.searchsorted(cuts, lower[band], side="right"))
        entry = totals.setdefault((flagset, coarse), [0.0, 0.0])
        entry[0] += n
        entry[1] += n * _guess(mean)
    big_n = np.array([n for n, _ in totals.values()])
    return big_n, np.array([s for _, s in totals.values()]) / big_n


def _in_target(stratum: str, target: str) -> bool:
    """Whether a stratum (``flagset | FLAG=[a,b)``) belongs to the target's domain."""
    if target == "prevalence":
        return True
    flag = target.split(":", 1)[1]
    flagset = stratum.split(" | ", 1)[0]
    return flag in flagset.split("+")
