"""Everything ``reviewer stats`` reads from an audit, in one place, before any computing.

:func:`gather` does every store read (labels with their context, the plan's strata
and drawn items, flag populations, exposure) and returns plain tables in a
:class:`StatsInputs`; :func:`reviewer.stats.audit_stats.compute` turns those into
the numbers without touching the audit. So the computation can be tested on
hand-built inputs, and a view never triggers a second read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.stats.exposure import exposure_figures


@dataclass
class StatsInputs:
    """The raw material of the statistics (no numbers computed yet).

    Attributes:
        audit: The audit folder, for the heading.
        plan: The plan whose design weights the estimates, or ``None``.
        category: Label category of the dataset-level analyses.
        categories: Categories configured in ``reviewer.toml``.
        labels: One row per current label with ``nsfw``, ``flagset``, ``stratum`` (NULL
            unless the item belongs to ``plan``) and ``inclusion_prob``.
        strata: The plan's strata (``stratum, population, drawn, inclusion_prob,
            is_control``).
        plan_items: The plan's drawn items with their ``stratum`` and ``flagset``.
        plan_spec: The options the plan was drawn with.
        flag_population: Items raised per flag and per pair of flags.
        population: Dataset size, flagged and unflagged items.
        exposure: Exposure events per reviewer.
        probes: The audit's probes (:class:`~reviewer.store.probes.ProbeInfo`).
        probe_items: Their items with tag, keyword/hate flags and judged harm.
        notes: What was decided while reading (which plan, why none).
    """

    audit: str
    plan: str | None
    category: str
    categories: list[str]
    labels: pd.DataFrame
    strata: list[dict[str, Any]]
    plan_items: pd.DataFrame
    plan_spec: dict[str, Any]
    flag_population: list[dict[str, Any]]
    population: dict[str, int]
    exposure: pa.Table
    notes: list[str] = field(default_factory=list)
    probes: list[Any] = field(default_factory=list)
    probe_items: pd.DataFrame = field(default_factory=pd.DataFrame)
    exposure_figures: dict[str, Any] = field(default_factory=dict)


def gather(audit: Audit, plan: str | None = None, category: str = "nsfw") -> StatsInputs:
    """Read what the statistics need.

    Raises:
        ReviewerError: No labels yet, or an unknown plan.
    """
    store, settings = audit.store, audit.settings
    notes: list[str] = []
    plan_name = _choose_plan(audit, plan, notes)
    labels = store.stats.labelled_items(settings, plan_name).to_pandas()
    if labels.empty:
        raise ReviewerError(
            "no labels yet", f"review some items first: reviewer review {audit.root}"
        )
    # A categorical verdict makes every isin() a lookup in five categories, not a
    # Python loop over a million Arrow strings.
    labels["verdict"] = labels["verdict"].astype("category")
    masks = store.stats.flag_masks(settings)  # one pass over the flags for both counts
    plan_items = (store.stats.plan_item_flags(plan_name, settings).to_pandas() if plan_name
                  else pd.DataFrame(columns=["sample_id", "stratum", "flagset"]))
    return StatsInputs(
        audit=str(audit.root),
        plan=plan_name,
        category=category,
        categories=list(settings.review.categories),
        labels=labels,
        strata=store.plans.strata(plan_name).to_pylist() if plan_name else [],
        plan_items=plan_items,
        plan_spec=store.plans.get(plan_name).spec if plan_name else {},
        flag_population=store.stats.flag_population(settings, masks).to_pylist(),
        population=store.stats.population_counts(settings, masks),
        exposure=audit.labels.exposure(),
        notes=notes,
        probes=store.probes.probes(),
        probe_items=store.probes.item_table(settings).to_pandas(),
        exposure_figures=exposure_figures(
            audit.labels.events(), audit.labels.exposure(), audit.labels.quarantine_table(),
            audit.labels.propagated_count(),
        ),
    )


def _choose_plan(audit: Audit, plan: str | None, notes: list[str]) -> str | None:
    if plan is not None:
        audit.store.plans.get(plan)
        return plan
    plans = audit.store.plans.all()
    if not plans:
        notes.append("no sampling plan: every estimate describes the labelled items only,"
                     " not the dataset (draw one with `reviewer sample`)")
        return None
    if len(plans) > 1:
        notes.append(f"design of the newest plan '{plans[0].name}' (choose with --plan)")
    return plans[0].name
