"""Everything ``reviewer stats`` reports, assembled once for the CLI, the report and the TUI.

:func:`reviewer.stats.gather.gather` reads the audit; :func:`compute` turns what it
read into an :class:`AuditStats`; the text, JSON, HTML, Markdown, TUI and notebook
views only format that object, so they can never disagree.

One design everywhere: every estimate that generalises beyond the labels is
design-based on the chosen plan's items only (:mod:`reviewer.stats.design` for
shares, :mod:`reviewer.stats.design_agreement` for the people-vs-tag coefficients).
Labels outside the plan count only in the figures that say "among labelled items".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.flag_specs import HATE_THRESHOLD
from reviewer.stats import design as dsg
from reviewer.stats import precision as prec
from reviewer.stats.agreement_view import field_agreement, reviewer_agreement
from reviewer.stats.design_agreement import JACKKNIFE, WeightedTable, weighted_coefficients
from reviewer.stats.gather import StatsInputs, gather
from reviewer.stats.intervals import proportion_ci
from reviewer.stats.probes import probe_rows
from reviewer.stats.reviewers import reviewer_rows

TAG_LEVELS = ("UNLIKELY", "UNSURE", "NSFW")
HUMAN_LEVELS = ("confirm", "reject", "unsure")
CUTS = {"unsure": 1, "nsfw": 2}
"""Binary cuts of the tag: harmful at or above this level of ``TAG_LEVELS``."""


@dataclass
class AuditStats:
    """The numbers of one audit at one moment; every view formats this object.

    Design-based figures (``precision[*]['precision']``, ``prevalence``, ``miss_rate``,
    ``field_agreement``, ``field_table_weighted``, ``field_by_tag[*]['share']``,
    ``targets``) describe the plan's population; ``*labelled*`` figures describe the
    labelled items only.
    """

    audit: str
    generated_at: str
    plan: str | None
    category: str
    confidence: float
    totals: dict[str, Any]
    design: dict[str, Any]
    field_table: list[dict[str, Any]]
    field_table_weighted: list[dict[str, Any]]
    field_by_tag: list[dict[str, Any]]
    field_agreement: dict[str, dict[str, Any]]
    field_agreement_labelled: dict[str, dict[str, Any]]
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
    targets: list[dict[str, Any]] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)
    """Per probe: judged-harmful share of its top K with an interval, tag and flag shares."""
    exposure: dict[str, Any] = field(default_factory=dict)
    """Reveals per decision, decisions with no reveal, list-matched items never
    rendered, propagated decisions, full-colour seconds (:mod:`reviewer.stats.exposure`)."""

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
    """Read the audit and compute every statistic (:func:`gather`, then :func:`compute`).

    Args:
        audit: The opened audit.
        plan: The sampling plan whose design the estimates use; ``None`` uses the
            newest plan (if any).
        category: Label category of the dataset-level analyses (tag table, prevalence,
            reviewer agreement). Each flag's precision uses its own category.
        confidence: Level of every interval.
        progress: Called as ``progress(done, total)`` after each of the steps, so the
            CLI can show a bar (a million labels take about a minute).

    Raises:
        ReviewerError: No labels yet, or an unknown plan.
    """
    step = _stepper(progress, STEPS)
    inputs = gather(audit, plan, category)
    step()
    return compute(inputs, confidence, step)


def compute(
    inputs: StatsInputs, confidence: float = 0.95, step: Callable[[], None] | None = None
) -> AuditStats:
    """Every statistic from what :func:`gather` read (no store access)."""
    step = step or (lambda: None)
    labels, category = inputs.labels, inputs.category
    _check_category(category, inputs.categories, labels["category"])
    notes = list(inputs.notes)
    design = Design.of(inputs)
    cat_labels = labels[labels["category"] == category]
    if cat_labels.empty:
        notes.append(f"no labels in category '{category}': tag table and agreement are empty")
    items = _items_with_context(cat_labels)
    strata = [dict(r) for r in inputs.strata]
    judged = items[items["y"].notna()].groupby("stratum").size()
    for row in strata:
        row["labelled"] = int(judged.get(row["stratum"], 0))
    spec = inputs.plan_spec
    covers_dataset = not spec.get("flagged_only") or int(spec.get("control") or 0) > 0
    precision_rows = _precision_rows(labels, inputs.flag_population, design, confidence,
                                     covers_dataset, notes)
    prevalence, miss = _prevalence_and_miss(items, design, confidence, notes)
    step()
    by_tag = _field_by_tag(items, design, confidence)
    weighted = _field_agreement_design(items, design, confidence)
    if weighted is not None:
        notes += _unlabelled_strata_note(items, design)
    labelled_agreement = field_agreement(cat_labels, confidence)
    step()
    between = reviewer_agreement(cat_labels, confidence)
    step()
    return AuditStats(
        audit=inputs.audit,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        plan=inputs.plan,
        category=category,
        confidence=confidence,
        totals=_totals(labels, inputs.population),
        design=_design_summary(inputs, design),
        field_table=_field_table(items),
        field_table_weighted=_field_table_weighted(items, design),
        field_by_tag=by_tag,
        field_agreement=weighted if weighted is not None else labelled_agreement,
        field_agreement_labelled=labelled_agreement,
        precision=precision_rows,
        prevalence=prevalence,
        miss_rate=miss,
        overlap=[r for r in inputs.flag_population if r["flag_a"] != r["flag_b"]],
        agreement=between,
        reviewers=reviewer_rows(labels, inputs.exposure),
        strata=strata,
        plan_spec=spec,
        notes=notes,
        targets=_targets(prevalence, precision_rows),
        probes=probe_rows(inputs.probe_items, inputs.probes, confidence),
        exposure=inputs.exposure_figures,
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


# ---- the design ----------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """The plan's strata as arrays, and the flags each stratum's drawn items raised."""

    names: list[str]
    population: np.ndarray
    control: frozenset[str]
    drawn_flags: dict[str, frozenset[str]]

    @classmethod
    def of(cls, inputs: StatsInputs) -> Design:
        """The design of the chosen plan (empty without one)."""
        names = [str(r["stratum"]) for r in inputs.strata]
        flags: dict[str, set[str]] = {n: set() for n in names}
        for stratum, flagset in zip(inputs.plan_items["stratum"],
                                    inputs.plan_items["flagset"], strict=True):
            if isinstance(flagset, str) and stratum in flags:
                flags[stratum].update(f for f in flagset.split("+") if f)
        return cls(names, np.array([float(r["population"]) for r in inputs.strata]),
                   frozenset(str(r["stratum"]) for r in inputs.strata if r["is_control"]),
                   {k: frozenset(v) for k, v in flags.items()})

    @property
    def exists(self) -> bool:
        """Whether a plan with strata weights the estimates."""
        return bool(self.names)

    def restrict(self, names: set[str] | frozenset[str]) -> Design:
        """The same design over a subset of its strata (the control, for the miss rate)."""
        keep = [i for i, n in enumerate(self.names) if n in names]
        return Design([self.names[i] for i in keep], self.population[keep], self.control,
                      {self.names[i]: self.drawn_flags[self.names[i]] for i in keep})

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's stratum index (−1 outside the plan)."""
        return np.asarray(pd.Categorical(frame["stratum"], categories=self.names).codes)

    def sums(self, frame: pd.DataFrame, a: Any, b: Any) -> dsg.StratumSums:
        """Per-stratum m_h, Σa, Σb over the plan items of ``frame``."""
        codes = self.codes(frame)
        inside = codes >= 0
        size = len(self.names)
        count = np.bincount(codes[inside], minlength=size)
        a_arr = np.asarray(a, dtype=float)[inside]
        b_arr = np.asarray(b, dtype=float)[inside]
        return dsg.StratumSums(self.population, count,
                               np.bincount(codes[inside], a_arr, minlength=size),
                               np.bincount(codes[inside], b_arr, minlength=size))

    def reach(self, flag: str) -> np.ndarray:
        """N_h where the stratum's drawn items raised ``flag`` (it may hold flagged items)."""
        return np.array([p if flag in self.drawn_flags[n] else 0.0
                         for n, p in zip(self.names, self.population, strict=True)])

    def estimate(
        self, frame: pd.DataFrame, a: Any, b: Any, confidence: float,
        reach: np.ndarray | None = None, random_domain: bool = False,
    ) -> dsg.DesignEstimate:
        """The design-based ratio Σa/Σb over the plan's population."""
        return dsg.ratio_estimate(self.names, self.sums(frame, a, b), confidence, reach,
                                  random_domain)


def _design_summary(inputs: StatsInputs, design: Design) -> dict[str, Any]:
    """Which labels the design uses and how it estimates (for every view's heading)."""
    in_plan = int(inputs.labels["stratum"].notna().sum())
    return {
        "plan": inputs.plan,
        "describes": "the plan's population" if design.exists else "the labelled items only",
        "plan_labels": in_plan,
        "other_labels": len(inputs.labels.index) - in_plan,
        "shares": dsg.METHOD,
        "agreement": JACKKNIFE,
    }


def _items_with_context(labels: pd.DataFrame) -> pd.DataFrame:
    """Item verdicts joined with the item's tag, flags and stratum (first label's values)."""
    verdicts = prec.item_verdicts(labels)
    context = labels.groupby("sample_id", as_index=False).first()[
        ["sample_id", "nsfw", "punsafe_band", "flagset", "stratum"]
    ]
    items = verdicts.merge(context, on="sample_id", how="left")
    items["human"] = _human_level(items)
    return items


def _in_design(items: pd.DataFrame) -> pd.DataFrame:
    """Plan items with a binary verdict: the labels the design uses."""
    return items[items["stratum"].notna() & items["y"].notna()]


def _human_level(items: pd.DataFrame) -> pd.Series:
    """confirm / reject from the binary verdict; unsure for unsure-only items and ties."""
    levels = np.select([items["y"] == 1.0, items["y"] == 0.0], ["confirm", "reject"], "unsure")
    return pd.Series(levels, index=items.index)


# ---- people vs the tag ---------------------------------------------------------------


def _field_table(items: pd.DataFrame) -> list[dict[str, Any]]:
    """The 3×3 table among labelled items: human verdict (rows) by LAION NSFW tag (columns)."""
    if items.empty:
        return [{"human": h, **{t: 0 for t in TAG_LEVELS}} for h in HUMAN_LEVELS]
    table = pd.crosstab(items["human"], items["nsfw"])
    return [
        {"human": h, **{t: int(table.at[h, t]) if h in table.index and t in table.columns
                        else 0 for t in TAG_LEVELS}}
        for h in HUMAN_LEVELS
    ]


def _field_table_weighted(items: pd.DataFrame, design: Design) -> list[dict[str, Any]]:
    """The 3×3 table estimated for the plan's population (each item counts N_h/m_h)."""
    plan_items = items[items["stratum"].notna()]
    if not design.exists or plan_items.empty:
        return []
    codes = design.codes(plan_items)
    m = np.bincount(codes[codes >= 0], minlength=len(design.names))
    weight = np.where(codes >= 0, design.population[codes] / np.maximum(m[codes], 1), 0.0)
    frame = pd.DataFrame({"human": plan_items["human"].to_numpy(),
                          "nsfw": plan_items["nsfw"].to_numpy(), "w": weight})
    sums = frame.groupby(["human", "nsfw"])["w"].sum()
    return [{"human": h, **{t: float(sums.get((h, t), 0.0)) for t in TAG_LEVELS}}
            for h in HUMAN_LEVELS]


def _field_by_tag(items: pd.DataFrame, design: Design, confidence: float) -> list[dict[str, Any]]:
    """Per tag level: share people confirmed, design-based and among labelled items."""
    rows = []
    designed = _in_design(items)
    for tag in TAG_LEVELS:
        level = items[(items["nsfw"] == tag) & items["y"].notna()]
        k, n = int(level["y"].sum()), n_rows(level)
        ci = proportion_ci(k, n, "wilson", confidence)
        row = {"tag": tag, "confirmed": k, "judged": n, "share": None, "low": None,
               "high": None, "labelled_share": ci.estimate, "labelled_low": ci.low,
               "labelled_high": ci.high}
        if design.exists:
            in_tag = (designed["nsfw"] == tag).astype(float)
            est = design.estimate(designed, designed["y"] * in_tag, in_tag, confidence)
            row.update(share=est.estimate, low=est.low, high=est.high)
        rows.append(row)
    return rows


def _field_agreement_design(
    items: pd.DataFrame, design: Design, confidence: float
) -> dict[str, dict[str, Any]] | None:
    """Design-weighted agreement of people (one verdict per item) with the tag."""
    if not design.exists:
        return None
    plan_items = items[items["stratum"].notna() & items["nsfw"].isin(TAG_LEVELS)]
    tag = plan_items["nsfw"].map({t: i for i, t in enumerate(TAG_LEVELS)}).to_numpy(int)
    out: dict[str, dict[str, Any]] = {}
    ordinal = plan_items["human"].map({"reject": 0, "unsure": 1, "confirm": 2}).to_numpy(int)
    three = WeightedTable(design.codes(plan_items), ordinal, tag, design.population, 3)
    for name, est in weighted_coefficients(
        three, confidence, ("weighted_kappa_linear", "weighted_kappa_quadratic")
    ).items():
        out[name] = est.as_dict()
    binary = plan_items["y"].notna().to_numpy()
    decided = plan_items[binary]
    for cut, at in CUTS.items():
        tag_cut = (tag[binary] >= at).astype(int)
        human = decided["y"].to_numpy(int)
        table = WeightedTable(design.codes(decided), human, tag_cut, design.population, 2)
        for name, est in weighted_coefficients(
            table, confidence, ("cohen_kappa", "gwet_ac1")
        ).items():
            out[f"{name}_cut_{cut}"] = est.as_dict()
        agree = (human == tag_cut).astype(float)
        p_o = design.estimate(decided, agree, np.ones(len(agree)), confidence)
        out[f"percent_agreement_cut_{cut}"] = _share_as_coefficient(p_o, lambda v: v)
        out[f"pabak_cut_{cut}"] = _share_as_coefficient(p_o, lambda v: 2 * v - 1)
    return out


def _unlabelled_strata_note(items: pd.DataFrame, design: Design) -> list[str]:
    """A note when the people-vs-tag coefficients cannot cover every stratum."""
    labelled = set(items.loc[items["stratum"].notna(), "stratum"])
    empty = [n for n in design.names if n not in labelled]
    if not empty:
        return []
    shown = ", ".join(empty[:3]) + (" …" if len(empty) > 3 else "")
    return [f"people vs the tag: {len(empty)} stratum(s) without labels ({shown}) are left"
            " out; the coefficients describe the labelled strata"]


def _share_as_coefficient(
    est: dsg.DesignEstimate, transform: Callable[[float], float]
) -> dict[str, Any]:
    """A design-based share (or a linear map of it) in the coefficient dict shape."""
    def mapped(v: float | None) -> float | None:
        return None if v is None else transform(v)

    return {"value": mapped(est.estimate), "low": mapped(est.low), "high": mapped(est.high),
            "se": est.se, "ci_method": est.method, "confidence": est.confidence,
            "n_items": est.labelled,
            "note": None if est.estimate is not None else "no labelled plan item"}


# ---- precision, prevalence, miss rate, recall ------------------------------------------


def n_rows(frame: pd.DataFrame) -> int:
    """Row count of a frame."""
    return len(frame.index)


def _precision_rows(
    labels: pd.DataFrame,
    flag_pop: list[dict[str, Any]],
    design: Design,
    confidence: float,
    covers_dataset: bool,
    notes: list[str],
) -> list[dict[str, Any]]:
    """Precision of every flag: design-based over the plan, and among labelled items."""
    flagged_counts = {r["flag_a"]: int(r["items"]) for r in flag_pop if r["flag_a"] == r["flag_b"]}
    seen = {f for s in labels["flagset"].dropna().unique() for f in str(s).split("+") if f}
    rows = []
    by_category: dict[str, pd.DataFrame] = {}
    for flag in sorted(set(flagged_counts) | seen):
        category = prec.category_of_flag(flag)
        if category not in by_category:
            by_category[category] = _items_with_context(labels[labels["category"] == category])
        rows.append(_precision_row(flag, category, by_category[category],
                                   flagged_counts.get(flag, 0), design, confidence,
                                   covers_dataset))
    if not rows:
        notes.append("no flags: run `reviewer flag` to measure filter precision")
    return rows


def _precision_row(
    flag: str,
    category: str,
    items: pd.DataFrame,
    population: int,
    design: Design,
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
        "precision": None, "low": None, "high": None, "se": None, "n_effective": None,
        "design_labels": 0, "method": None,
        "labelled_share": wilson.estimate,
        "wilson_low": wilson.low, "wilson_high": wilson.high,
        "cp_low": exact.low, "cp_high": exact.high,
        "recall": None, "recall_low": None, "recall_high": None, "notes": [],
    }
    designed = _in_design(items)
    if not design.exists:
        return row
    mask = prec.flagged_mask(designed, flag)
    est = design.estimate(designed, designed["y"] * mask, mask, confidence, design.reach(flag))
    row.update(precision=est.estimate, low=est.low, high=est.high, se=est.se,
               n_effective=est.n_effective, design_labels=est.labelled, method=est.method,
               notes=list(est.notes))
    if covers_dataset and n_rows(designed):
        rec = design.estimate(designed, designed["y"] * mask, designed["y"], confidence,
                              random_domain=True)
        row.update(recall=rec.estimate, recall_low=rec.low, recall_high=rec.high)
    return row


def _prevalence_and_miss(
    items: pd.DataFrame, design: Design, confidence: float, notes: list[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Share of harmful items in the plan's population, and among unflagged items."""
    if not design.exists or items.empty:
        return None, None
    designed = _in_design(items)
    if not n_rows(designed):
        notes.append("no binary verdict on any plan item yet: no design-based estimate")
        return None, None
    ones = np.ones(n_rows(designed))
    prevalence = design.estimate(designed, designed["y"], ones, confidence).as_dict()
    if not design.control:
        notes.append("the plan has no control sample: miss rate and recall need"
                     " `reviewer sample --control N`")
        return prevalence, None
    control = designed[designed["stratum"].isin(design.control)]
    est = design.restrict(design.control).estimate(
        control, control["y"], np.ones(n_rows(control)), confidence)
    miss = {"harmful": int(control["y"].sum()), "judged": n_rows(control), **est.as_dict()}
    return prevalence, miss


def _targets(
    prevalence: dict[str, Any] | None, precision: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each design-based estimate as a target: value, interval, labels, SRS-equivalent labels.

    ``srs_equivalent_labels`` is the Korn–Graubard effective n: the number of simple-
    random-sample labels whose binomial variance equals this design's.
    """
    rows = []
    if prevalence is not None:
        rows.append(_target("prevalence", prevalence["estimate"], prevalence["low"],
                            prevalence["high"], prevalence["method"], prevalence["labelled"],
                            prevalence["n_effective"]))
    for r in precision:
        if r["precision"] is not None:
            rows.append(_target(f"precision:{r['flag']}", r["precision"], r["low"], r["high"],
                                r["method"], r["design_labels"], r["n_effective"]))
    return rows


def _target(name: str, estimate: float | None, low: float | None, high: float | None,
            method: str | None, labels: int, n_effective: float | None) -> dict[str, Any]:
    srs = None if n_effective is None else math.ceil(n_effective)
    return {"target": name, "estimate": estimate, "low": low, "high": high, "method": method,
            "labels": labels, "srs_equivalent_labels": srs}


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
    threshold = audit.settings.flags[HATE_THRESHOLD]
    return [row.as_dict() for name, part in hcr.split_groups(scores, "dataset").items()
            for row in hcr.hcr_rows(part, threshold, name, confidence)]


# ---- DataFrames for notebooks ----------------------------------------------------------


def precision_table(stats: AuditStats) -> pd.DataFrame:
    """Precision per flag: design-based with its interval, the labelled share, recall."""
    return pd.DataFrame(stats.precision)


def field_table(stats: AuditStats, weighted: bool = False) -> pd.DataFrame:
    """Human verdict (rows) by LAION NSFW tag (columns): labelled items, or the estimated
    population counts of the plan (``weighted=True``)."""
    rows = stats.field_table_weighted if weighted else stats.field_table
    return pd.DataFrame(rows, columns=["human", *TAG_LEVELS]).set_index("human")


def reviewer_table(stats: AuditStats) -> pd.DataFrame:
    """Per reviewer: items, labels, verdicts, seconds per item, exposure."""
    return pd.DataFrame(stats.reviewers)


def agreement_table(stats: AuditStats) -> pd.DataFrame:
    """Agreement among reviewers (labelled items) and with the tag (design-based, and
    among labelled items): value, interval, method, note."""
    rows = [{"between": "reviewers", "statistic": k, **v}
            for k, v in stats.agreement["overall"].items()]
    rows += [{"between": f"{p['a']} / {p['b']}", "statistic": "cohen_kappa", **p}
             for p in stats.agreement["pairs"]]
    rows += [{"between": "people / tag", "statistic": k, **v}
             for k, v in stats.field_agreement.items()]
    rows += [{"between": "people / tag (labelled items)", "statistic": k, **v}
             for k, v in stats.field_agreement_labelled.items()]
    return pd.DataFrame(rows).drop(columns=["a", "b"], errors="ignore")


def targets_table(stats: AuditStats) -> pd.DataFrame:
    """Each design-based target with its interval, labels and SRS-equivalent labels."""
    columns = ["target", "estimate", "low", "high", "method", "labels", "srs_equivalent_labels"]
    return pd.DataFrame(stats.targets, columns=columns)


def strata_table(stats: AuditStats) -> pd.DataFrame:
    """The plan's strata: population N_h, drawn n_h, inclusion probability, labelled."""
    return pd.DataFrame(stats.strata)
