"""Agreement between raters: the public functions reviewers, reports and the CLI call.

Every function takes (item, rater, label) triples in any form
:func:`reviewer.stats.ratings.as_ratings` accepts (pyarrow table, pandas
DataFrame, list of tuples or dicts, or an already encoded
:class:`~reviewer.stats.ratings.Ratings`) and returns an
:class:`~reviewer.stats.coefficient.Estimate`: value, SE, interval, the method
of the interval in words, and a ``note`` with the reason when the coefficient is
undefined (``value=None``, never NaN).

Public interface (stable):

- ``percent_agreement(ratings, *, confidence=0.95) -> Estimate``
  Two raters: share of items both rated on which they agree, Wilson interval.
  More raters: mean share of agreeing pairs per item, Gwet's variance.
- ``cohen_kappa(ratings, *, weights=None, order=None, confidence=0.95) -> Estimate``
  Exactly two raters; ``weights`` ``None`` | ``"linear"`` | ``"quadratic"`` (weighted
  κ on the category order: numeric labels sort, text labels need ``order``).
  Asymptotic SE (Fleiss, Cohen & Everitt 1969) via statsmodels.
- ``pairwise_cohen(ratings, *, confidence=0.95) -> list[PairKappa]``: κ for every
  pair of raters with overlapping items.
- ``fleiss_kappa(ratings, *, confidence=0.95) -> Estimate``: Fleiss (1971), Gwet's variance.
- ``krippendorff_alpha(ratings, *, level="nominal", order=None, confidence=0.95,
  n_boot=1000, seed=0) -> Estimate``: nominal / ordinal / interval, missing data as
  Krippendorff (2011); percentile bootstrap over items.
- ``gwet_ac1(ratings, *, confidence=0.95) -> Estimate``: Gwet (2008) with its variance.
- ``pabak(ratings, *, confidence=0.95) -> Estimate``: 2·p_o − 1 for two categories
  (Byrt, Bishop & Carlin 1993), (q·p_o − 1)/(q − 1) for q (Brennan & Prediger 1981);
  for more than two raters p_o is the pairwise agreement.
- ``agreement_summary(ratings, *, level="nominal", order=None, confidence=0.95,
  n_boot=1000, seed=0, progress=None) -> AgreementSummary``: all of the above;
  ``.as_json()`` gives the ``reviewer agreement --json`` document.
- Lower level, on tables and count matrices (also stable, used by ``reviewer stats``):
  ``kappa.table_kappa(table, confidence, weights)``, ``kappa.table_pabak``,
  ``kappa.table_percent_agreement``; ``gwet.fleiss_kappa(counts, confidence)``,
  ``gwet.gwet_ac1``, ``gwet.multi_percent_agreement``;
  ``alpha.krippendorff_alpha(counts, level, values, confidence, n_boot, seed)``;
  ``ratings.as_ratings(data, item=, rater=, label=, level=, order=)`` → ``Ratings``
  (``.counts``, ``.pair_table(a, b)``, ``.raters``, ``.categories``).
- Human verdicts against the CLIP NSFW field:
  :func:`reviewer.stats.field_agreement.verdict_vs_field` (re-exported here).

Undefined cases say so: one rater only, no item rated twice, every label the
same category (κ = 0/0). Items rated by one rater only are counted
(``n_single_rated``) and left out of every pairwise comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reviewer.stats import gwet, kappa
from reviewer.stats.alpha import krippendorff_alpha as _alpha_from_counts
from reviewer.stats.coefficient import Estimate, undefined
from reviewer.stats.field_agreement import FieldAgreement, verdict_vs_field
from reviewer.stats.ratings import Ratings, RatingsLike, as_ratings

__all__ = [
    "AgreementSummary",
    "Estimate",
    "FieldAgreement",
    "PairKappa",
    "agreement_summary",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "pabak",
    "pairwise_cohen",
    "percent_agreement",
    "verdict_vs_field",
]


@dataclass(frozen=True)
class PairKappa:
    """Cohen's κ between two named raters on the items both rated."""

    rater_a: str
    rater_b: str
    n_shared: int
    kappa: Estimate
    agreement: Estimate


def percent_agreement(ratings: RatingsLike, *, confidence: float = 0.95) -> Estimate:
    """Observed agreement: two raters, share of shared items agreed on; more, pairwise share."""
    data = as_ratings(ratings)
    if data.n_raters == 2:
        table, _ = data.pair_table()
        return kappa.table_percent_agreement(table, confidence)
    if data.n_raters < 2:
        return _one_rater("percent_agreement", data, confidence)
    return gwet.multi_percent_agreement(data.counts, confidence)


def cohen_kappa(
    ratings: RatingsLike,
    *,
    weights: str | None = None,
    order: Sequence[Any] | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Cohen's κ for exactly two raters (weighted when ``weights`` is given)."""
    level = "nominal" if weights is None else "ordinal"
    data = as_ratings(ratings, level=level, order=order)
    name = "cohen_kappa" if weights is None else f"weighted_kappa_{weights}"
    if data.n_raters != 2:
        return undefined(
            name,
            f"Cohen's κ needs exactly two raters; there are {data.n_raters} "
            "(use Fleiss' κ, AC1 or α, or pairwise κ)",
            data.n_items,
            confidence,
        )
    table, _ = data.pair_table()
    return kappa.table_kappa(table, confidence, weights)


def pairwise_cohen(ratings: RatingsLike, *, confidence: float = 0.95) -> list[PairKappa]:
    """Cohen's κ and percent agreement for every pair of raters who share items."""
    data = as_ratings(ratings)
    pairs: list[PairKappa] = []
    for a in range(data.n_raters):
        for b in range(a + 1, data.n_raters):
            table, _ = data.pair_table(a, b)
            shared = int(table.sum())
            if shared:
                pairs.append(
                    PairKappa(
                        data.raters[a],
                        data.raters[b],
                        shared,
                        kappa.table_kappa(table, confidence),
                        kappa.table_percent_agreement(table, confidence),
                    )
                )
    return pairs


def fleiss_kappa(ratings: RatingsLike, *, confidence: float = 0.95) -> Estimate:
    """Fleiss' κ over any number of raters (Gwet's generalisation when counts differ)."""
    data = as_ratings(ratings)
    if data.n_raters < 2:
        return _one_rater("fleiss_kappa", data, confidence)
    return gwet.fleiss_kappa(data.counts, confidence)


def gwet_ac1(ratings: RatingsLike, *, confidence: float = 0.95) -> Estimate:
    """Gwet's AC1 over any number of raters, with Gwet's (2008) variance."""
    data = as_ratings(ratings)
    if data.n_raters < 2:
        return _one_rater("gwet_ac1", data, confidence)
    return gwet.gwet_ac1(data.counts, confidence)


def krippendorff_alpha(
    ratings: RatingsLike,
    *,
    level: str = "nominal",
    order: Sequence[Any] | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> Estimate:
    """Krippendorff's α at ``level`` with a seeded bootstrap interval over items."""
    data = as_ratings(ratings, level=level, order=order)
    if data.n_raters < 2:
        return _one_rater("krippendorff_alpha", data, confidence)
    return _alpha_from_counts(data.counts, data.level, data.numeric, confidence, n_boot, seed)


def pabak(ratings: RatingsLike, *, confidence: float = 0.95) -> Estimate:
    """Prevalence- and bias-adjusted κ: 2·p_o − 1 for two categories, (q·p_o − 1)/(q − 1)
    for q (Brennan & Prediger 1981)."""
    data = as_ratings(ratings)
    if data.q < 2:
        return undefined(
            "pabak",
            "PABAK needs at least two categories; the scale has one"
            " (declare the scale with order=...)",
            data.n_items,
            confidence,
        )
    return kappa.pabak_from_agreement(percent_agreement(data, confidence=confidence), data.q)


def _one_rater(name: str, data: Ratings, confidence: float) -> Estimate:
    """The estimate for data with fewer than two raters: undefined, and why."""
    return undefined(
        name,
        f"agreement needs at least two raters; found {data.n_raters}",
        data.n_items,
        confidence,
    )


@dataclass(frozen=True)
class AgreementSummary:
    """Every agreement statistic for one set of ratings, plus what was left out."""

    n_items: int
    n_raters: int
    n_ratings: int
    n_single_rated: int
    n_missing: int
    n_duplicates: int
    level: str
    categories: list[Any]
    percent_agreement: Estimate
    cohen_kappa: Estimate
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    gwet_ac1: Estimate
    pabak: Estimate
    weighted: dict[str, Estimate] = field(default_factory=dict)

    @property
    def estimates(self) -> list[Estimate]:
        """The headline coefficients in display order, then weighted κ if computed."""
        main = [
            self.percent_agreement,
            self.cohen_kappa,
            self.fleiss_kappa,
            self.krippendorff_alpha,
            self.gwet_ac1,
            self.pabak,
        ]
        return main + list(self.weighted.values())

    def as_json(self) -> dict[str, Any]:
        """The ``reviewer agreement --json`` document: contract keys, then detail."""
        doc: dict[str, Any] = {"n_items": self.n_items, "n_raters": self.n_raters}
        for estimate in self.estimates[:6]:
            doc[estimate.statistic] = estimate.value
        doc["intervals"] = {e.statistic: e.as_dict() for e in self.estimates}
        doc["notes"] = {e.statistic: e.note for e in self.estimates if e.note}
        doc.update(
            {
                "weighted_kappa": {k: e.value for k, e in self.weighted.items()},
                "level": self.level,
                "categories": [_plain(c) for c in self.categories],
                "n_ratings": self.n_ratings,
                "n_single_rated": self.n_single_rated,
                "n_missing_labels": self.n_missing,
                "n_duplicates_dropped": self.n_duplicates,
            }
        )
        return doc


def _plain(value: Any) -> Any:
    """JSON-friendly category (numpy scalars become Python numbers)."""
    return value.item() if hasattr(value, "item") else value


def agreement_summary(
    ratings: RatingsLike,
    *,
    level: str = "nominal",
    order: Sequence[Any] | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int | None], None] | None = None,
) -> AgreementSummary:
    """All agreement statistics at once (the data are checked and encoded once).

    With ``level`` ordinal or interval and exactly two raters, linear and quadratic
    weighted κ are added under ``weighted``. ``progress(done, total)`` is called after
    each statistic, so the CLI can draw a bar on large files.
    """
    data = as_ratings(ratings, level=level, order=order)
    steps: list[Callable[[], Estimate]] = [
        lambda: percent_agreement(data, confidence=confidence),
        lambda: cohen_kappa(data, confidence=confidence),
        lambda: fleiss_kappa(data, confidence=confidence),
        lambda: krippendorff_alpha(
            data, level=data.level, confidence=confidence, n_boot=n_boot, seed=seed
        ),
        lambda: gwet_ac1(data, confidence=confidence),
        lambda: pabak(data, confidence=confidence),
    ]
    if data.level != "nominal" and data.n_raters == 2:
        table, _ = data.pair_table()
        # Interval level: weights on the values' differences; ordinal: on the ranks.
        values = data.numeric if data.level == "interval" else None
        steps += [partial(kappa.table_kappa, table, confidence, w, values)
                  for w in kappa.WEIGHTS]
    results: list[Estimate] = []
    for step in steps:
        results.append(step())
        if progress is not None:
            progress(len(results), len(steps))
    return AgreementSummary(
        n_items=data.n_items,
        n_raters=data.n_raters,
        n_ratings=data.n_ratings,
        n_single_rated=data.n_single_rated,
        n_missing=data.n_missing,
        n_duplicates=data.n_duplicates,
        level=data.level,
        categories=list(data.categories),
        percent_agreement=results[0],
        cohen_kappa=results[1],
        fleiss_kappa=results[2],
        krippendorff_alpha=results[3],
        gwet_ac1=results[4],
        pabak=results[5],
        weighted={e.statistic.removeprefix("weighted_kappa_"): e for e in results[6:]},
    )
