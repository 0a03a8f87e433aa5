"""Everything ``reviewer stats`` reports, assembled once for the CLI, the report and the TUI.

:func:`compute_stats` reads the labels (with their samples, flags and plan
strata) and returns an :class:`AuditStats`; the text, JSON, HTML, Markdown and
TUI views only format it, so they can never disagree. The ``*_table`` functions
give the same numbers as pandas DataFrames for notebooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.stats import precision as prec
from reviewer.stats.agreement_view import field_agreement, reviewer_agreement
from reviewer.stats.intervals import proportion_ci
from reviewer.stats.reviewers import reviewer_rows

TAG_LEVELS = ("UNLIKELY", "UNSURE", "NSFW")
HUMAN_LEVELS = ("confirm", "reject", "unsure")


@dataclass
class AuditStats:
    """The numbers of one audit at one moment; every view formats this object."""

    audit: str
    generated_at: str
    plan: str | None
    category: str
    confidence: float
    totals: dict[str, Any]
    field_table: list[dict[str, Any]]
    field_by_tag: list[dict[str, Any]]
    field_agreement: dict[str, dict[str, Any]]
    precision: list[dict[str, Any]]
    prevalence: dict[str, Any] | None
    miss_rate: dict[str, Any] | None
    overlap: list[dict[str, Any]]
    agreement: dict[str, Any]
    reviewers: list[dict[str, Any]]
    strata: list[dict[str, Any]]
    plan_spec: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hcr: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (``None`` where a statistic is undefined; never NaN)."""
        return dict(self.__dict__)


def _check_category(category: str, configured: list[str], labelled: pd.Series) -> None:
    """Refuse a category neither ``reviewer.toml`` nor any label names, as export does:
    a typo would otherwise print an empty tag table and agreement as if they were results."""
    known = configured + sorted({str(c) for c in labelled.unique()} - set(configured))
    if category not in known:
        raise ReviewerError(
            f"--category {category}: unknown category", f"valid: {', '.join(known)}"
        )


def compute_stats(
    audit: Audit,
    plan: str | None = None,
    category: str = "nsfw",
    confidence: float = 0.95,
    progress: Callable[[int, int | None], None] | None = None,
) -> AuditStats:
    """Compute every statistic of the audit.

    Args:
        audit: The opened audit.
        plan: The sampling plan whose strata weight the estimates; ``None`` uses the
            newest plan (if any).
        category: Label category of the dataset-level analyses (tag table, prevalence,
            reviewer agreement). Each flag's precision uses its own category.
        confidence: Level of every interval.
        progress: Called as ``progress(done, total)`` after each of the steps, so the
            CLI can show a bar (a million labels take about a minute).

    Raises:
        ReviewerError: No labels yet, or an unknown plan.
    """
    store, settings = audit.store, audit.settings
    notes: list[str] = []
    step = _stepper(progress, STEPS)
    plan_name = _choose_plan(audit, plan, notes)
    labels = store.stats.labelled_items(settings, plan_name).to_pandas()
    step()
    # A categorical verdict makes every isin() a lookup in five categories, not a
    # Python loop over a million Arrow strings.
    labels["verdict"] = labels["verdict"].astype("category")
    if labels.empty:
        raise ReviewerError(
            "no labels yet", f"review some items first: reviewer review {audit.root}"
        )
    _check_category(category, list(settings.review.categories), labels["category"])
    strata = store.plans.strata(plan_name).to_pylist() if plan_name else []
    populations = {r["stratum"]: int(r["population"]) for r in strata}
    spec = store.plans.get(plan_name).spec if plan_name else {}
    cat_labels = labels[labels["category"] == category]
    if cat_labels.empty:
        notes.append(f"no labels in category '{category}': tag table and agreement are empty")
    items = _items_with_context(cat_labels)
    judged = items[items["y"].notna()].groupby("stratum").size()
    for row in strata:
        row["labelled"] = int(judged.get(row["stratum"], 0))
    flag_pop = store.stats.flag_population(settings).to_pylist()
    covers_dataset = not spec.get("flagged_only") or int(spec.get("control") or 0) > 0
    precision_rows = _precision_rows(labels, flag_pop, populations, confidence, notes,
                                     covers_dataset)
    prevalence, miss = _prevalence_and_miss(items, populations, strata, confidence, notes)
    _bound_degenerate_recall(precision_rows, miss, strata)
    step()
    tag_agreement = field_agreement(cat_labels, confidence)
    step()
    between = reviewer_agreement(cat_labels, confidence)
    step()
    return AuditStats(
        audit=str(audit.root),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        plan=plan_name,
        category=category,
        confidence=confidence,
        totals=_totals(labels, store.stats.population_counts(settings)),
        field_table=_field_table(items),
        field_by_tag=_field_by_tag(items, confidence),
        field_agreement=tag_agreement,
        precision=precision_rows,
        prevalence=prevalence,
        miss_rate=miss,
        overlap=[r for r in flag_pop if r["flag_a"] != r["flag_b"]],
        agreement=between,
        reviewers=reviewer_rows(labels, audit.labels.exposure()),
        strata=strata,
        plan_spec=spec,
        notes=notes,
    )


STEPS = 4


def _stepper(
    progress: Callable[[int, int | None], None] | None, total: int
) -> Callable[[], None]:
    """A callable that reports one more finished step (or does nothing without a callback)."""
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return step


def _choose_plan(audit: Audit, plan: str | None, notes: list[str]) -> str | None:
    if plan is not None:
        audit.store.plans.get(plan)
        return plan
    plans = audit.store.plans.all()
    if not plans:
        notes.append("no sampling plan: estimates are not weighted to the dataset"
                     " (draw one with `reviewer sample`)")
        return None
    if len(plans) > 1:
        notes.append(f"weighted by the newest plan '{plans[0].name}' (choose with --plan)")
    return plans[0].name


def _items_with_context(labels: pd.DataFrame) -> pd.DataFrame:
    """Item verdicts joined with the item's tag, flags and stratum (first label's values)."""
    verdicts = prec.item_verdicts(labels)
    context = labels.groupby("sample_id", as_index=False).first()[
        ["sample_id", "nsfw", "punsafe_band", "flagset", "stratum"]
    ]
    return verdicts.merge(context, on="sample_id", how="left")


def _human_level(items: pd.DataFrame) -> pd.Series:
    """confirm / reject from the binary verdict; unsure for unsure-only items and ties."""
    levels = np.select([items["y"] == 1.0, items["y"] == 0.0], ["confirm", "reject"], "unsure")
    return pd.Series(levels, index=items.index)


def _field_table(items: pd.DataFrame) -> list[dict[str, Any]]:
    """The 3×3 table: items by human verdict (rows) and LAION NSFW tag (columns)."""
    if items.empty:
        return [{"human": h, **{t: 0 for t in TAG_LEVELS}} for h in HUMAN_LEVELS]
    human = _human_level(items)
    table = pd.crosstab(human, items["nsfw"])
    return [
        {"human": h, **{t: int(table.at[h, t]) if h in table.index and t in table.columns
                        else 0 for t in TAG_LEVELS}}
        for h in HUMAN_LEVELS
    ]


def _field_by_tag(items: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """Per tag level: the share of items people confirmed (binary verdicts only)."""
    rows = []
    for tag in TAG_LEVELS:
        level = items[(items["nsfw"] == tag) & items["y"].notna()]
        k, n = int(level["y"].sum()), n_rows(level)
        ci = proportion_ci(k, n, "wilson", confidence)
        rows.append({"tag": tag, "confirmed": k, "judged": n, "share": ci.estimate,
                     "low": ci.low, "high": ci.high})
    return rows


def n_rows(frame: pd.DataFrame) -> int:
    """Row count of a frame."""
    return len(frame.index)


def _precision_rows(
    labels: pd.DataFrame,
    flag_pop: list[dict[str, Any]],
    populations: dict[str, int],
    confidence: float,
    notes: list[str],
    covers_dataset: bool,
) -> list[dict[str, Any]]:
    """Precision of every flag: among labelled items, and weighted to the dataset."""
    flagged_counts = {r["flag_a"]: int(r["items"]) for r in flag_pop if r["flag_a"] == r["flag_b"]}
    seen = {f for s in labels["flagset"].dropna().unique() for f in str(s).split("+") if f}
    rows = []
    by_category: dict[str, pd.DataFrame] = {}
    for flag in sorted(set(flagged_counts) | seen):
        category = prec.category_of_flag(flag)
        if category not in by_category:
            by_category[category] = _items_with_context(labels[labels["category"] == category])
        items = by_category[category]
        rows.append(_precision_row(flag, category, items, flagged_counts.get(flag, 0),
                                   populations, confidence, covers_dataset))
    if not rows:
        notes.append("no flags: run `reviewer flag` to measure filter precision")
    return rows


def _precision_row(
    flag: str,
    category: str,
    items: pd.DataFrame,
    population: int,
    populations: dict[str, int],
    confidence: float,
    covers_dataset: bool,
) -> dict[str, Any]:
    """Precision of one flag; recall only when the plan covers unflagged items too."""
    in_flag = prec.flagged_mask(items, flag) > 0
    judged = items[in_flag & items["y"].notna()]
    k, n = int(judged["y"].sum()), n_rows(judged)
    wilson = proportion_ci(k, n, "wilson", confidence)
    exact = proportion_ci(k, n, "clopper-pearson", confidence)
    row: dict[str, Any] = {
        "flag": flag, "category": category, "flagged": population, "judged": n, "confirmed": k,
        "not_binary": int(in_flag.sum()) - n,
        "precision": wilson.estimate,
        "wilson_low": wilson.low, "wilson_high": wilson.high,
        "cp_low": exact.low, "cp_high": exact.high,
        "weighted": None, "weighted_low": None, "weighted_high": None,
        "recall": None, "recall_low": None, "recall_high": None, "notes": [],
    }
    design = items[items["stratum"].notna() & items["y"].notna()]
    if populations and n_rows(design):
        mask = prec.flagged_mask(design, flag)
        est = prec.ratio_estimate(design, populations, design["y"] * mask, mask, confidence)
        row.update(weighted=est.estimate, weighted_low=est.low, weighted_high=est.high)
        row["notes"] = list(est.notes)
        if not covers_dataset:
            return row
        rec = prec.ratio_estimate(design, populations, design["y"] * mask, design["y"],
                                  confidence)
        row.update(recall=rec.estimate, recall_low=rec.low, recall_high=rec.high,
                   _recall_se=rec.se, _harmful_flagged=rec.numerator_total,
                   _harmful_total=rec.denominator_total)
    return row


def _bound_degenerate_recall(
    rows: list[dict[str, Any]], miss: dict[str, Any] | None, strata: list[dict[str, Any]]
) -> None:
    """Give recall a lower bound when the control sample found no harmful item.

    Then the linearised variance is 0 and the interval would collapse to a point.
    Instead: recall ≥ T̂_F / (T̂ + N_c · u), where u is the upper Wilson bound of
    the miss rate and N_c the number of unflagged items.
    """
    n_control = sum(int(r["population"]) for r in strata if r["is_control"])
    for row in rows:
        se = row.pop("_recall_se", None)
        flagged = row.pop("_harmful_flagged", None)
        total = row.pop("_harmful_total", None)
        if miss is None or row["recall"] is None or se or flagged is None or total is None:
            continue
        if miss["harmful"] == 0 and miss["wilson_high"] is not None:
            row["recall_low"] = flagged / (total + n_control * miss["wilson_high"])
            row["notes"].append("no harmful item in the control sample: the recall"
                                " interval's lower end uses the miss rate's upper bound")


def _prevalence_and_miss(
    items: pd.DataFrame,
    populations: dict[str, int],
    strata: list[dict[str, Any]],
    confidence: float,
    notes: list[str],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Share of harmful items in the plan's population, and among unflagged items."""
    if not populations or items.empty:
        return None, None
    design = items[items["stratum"].notna() & items["y"].notna()]
    if not n_rows(design):
        notes.append("no binary verdict on any plan item yet: no weighted estimate")
        return None, None
    estimate = prec.stratified_proportion(design, populations, confidence).as_dict()
    controls = {r["stratum"] for r in strata if r["is_control"]}
    if not controls:
        notes.append("the plan has no control sample: miss rate and recall need"
                     " `reviewer sample --control N`")
        return estimate, None
    control = design[design["stratum"].isin(controls)]
    k, n = int(control["y"].sum()), n_rows(control)
    wilson = proportion_ci(k, n, "wilson", confidence)
    exact = proportion_ci(k, n, "clopper-pearson", confidence)
    miss = {"harmful": k, "judged": n, "rate": wilson.estimate, "wilson_low": wilson.low,
            "wilson_high": wilson.high, "cp_low": exact.low, "cp_high": exact.high}
    return estimate, miss


def _totals(labels: pd.DataFrame, population: dict[str, int]) -> dict[str, Any]:
    counts = labels["verdict"].value_counts()
    return {
        **population,
        "labels": n_rows(labels),
        "labelled_items": int(labels["sample_id"].nunique()),
        "reviewers": int(labels["reviewer"].nunique()),
        "verdicts": {v: int(counts.get(v, 0)) for v in
                     ("confirm", "reject", "unsure", "skip", "escalate")},
    }


def hate_rates(audit: Audit, confidence: float = 0.95) -> list[dict[str, Any]]:
    """Hate content rate per dataset and type (for the report), or [] without a hate run.

    Reads every hate score, so only the report asks for it, not ``reviewer stats``.
    """
    from reviewer.stats import hcr

    try:
        scores = audit.store.flags.scores_with_samples("hate", ("dataset",))
    except (ReviewerError, AttributeError):
        return []
    threshold = audit.settings.flags.hate_threshold
    return [row.as_dict() for name, part in hcr.split_groups(scores, "dataset").items()
            for row in hcr.hcr_rows(part, threshold, name, confidence)]


# ---- DataFrames for notebooks ----------------------------------------------------------


def precision_table(audit: Audit, plan: str | None = None) -> pd.DataFrame:
    """Precision per flag (plain with Wilson and Clopper–Pearson, and weighted), recall."""
    return pd.DataFrame(compute_stats(audit, plan).precision)


def field_table(audit: Audit, category: str = "nsfw") -> pd.DataFrame:
    """Items by human verdict (rows) and LAION NSFW tag (columns)."""
    stats = compute_stats(audit, category=category)
    return pd.DataFrame(stats.field_table).set_index("human")


def reviewer_table(audit: Audit) -> pd.DataFrame:
    """Per reviewer: items, labels, verdicts, seconds per item, exposure."""
    return pd.DataFrame(compute_stats(audit).reviewers)


def agreement_table(audit: Audit, category: str = "nsfw") -> pd.DataFrame:
    """Agreement coefficients among reviewers and with the tag: value, interval, note."""
    stats = compute_stats(audit, category=category)
    rows = [{"between": "reviewers", "statistic": k, **v}
            for k, v in stats.agreement["overall"].items()]
    rows += [{"between": f"{p['a']} / {p['b']}", "statistic": "cohen_kappa", **p}
             for p in stats.agreement["pairs"]]
    rows += [{"between": "people / tag", "statistic": k, **v}
             for k, v in stats.field_agreement.items()]
    return pd.DataFrame(rows).drop(columns=["a", "b"], errors="ignore")


def strata_table(audit: Audit, plan: str) -> pd.DataFrame:
    """The plan's strata: population N_h, drawn n_h, inclusion probability."""
    return audit.store.plans.strata(plan).to_pandas()
