"""``reviewer agreement FILE``: agreement statistics for any (item, rater, label) file.

Labels may come from other annotation tools, from this audit's export, or from
a model acting as a rater; the file only needs one row per decision. The text
output is an aligned table with intervals and the reason for every undefined
coefficient; ``--json`` prints the documented keys for scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.stats.agreement import AgreementSummary

LABELS = {
    "percent_agreement": "percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "pabak": "PABAK",
    "weighted_kappa_linear": "weighted kappa, linear",
    "weighted_kappa_quadratic": "weighted kappa, quadratic",
}


def _order(value: str | None) -> list[str] | None:
    """``--order a,b,c`` as a list (``None`` when not given)."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) < 2 or not all(parts):
        raise ReviewerError(f"--order {value}: give at least two categories separated by commas")
    return parts


@click.command("agreement")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--level",
    type=click.Choice(["nominal", "ordinal", "interval"]),
    default="nominal",
    show_default=True,
    help="Scale of the labels (Krippendorff's alpha metric; ordinal/interval add weighted kappa).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--item", "item_col", help="Item column (default: item, sample_id, unit...).")
@click.option("--rater", "rater_col", help="Rater column (default: rater, reviewer, coder...).")
@click.option("--label", "label_col", help="Label column (default: label, value, verdict...).")
@click.option("--order", help="Categories lowest first, e.g. reject,unsure,confirm.")
@click.option(
    "--confidence",
    type=float,
    default=0.95,
    show_default=True,
    help="Two-sided confidence level of the intervals.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for alpha's interval (0: none).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Bootstrap seed."
)
def agreement_command(
    file: Path,
    level: str,
    as_json: bool,
    item_col: str | None,
    rater_col: str | None,
    label_col: str | None,
    order: str | None,
    confidence: float,
    n_boot: int,
    seed: int,
) -> None:
    """Agreement between raters in FILE (CSV, TSV or parquet of item, rater, label rows)."""
    from reviewer.cli.progress import progress_bar
    from reviewer.stats.agreement import agreement_summary
    from reviewer.stats.ratings import read_ratings

    if not 0 < confidence < 1:
        raise ReviewerError(f"--confidence {confidence}: must be between 0 and 1", "e.g. 0.95")
    ratings = read_ratings(
        file, item=item_col, rater=rater_col, label=label_col, level=level, order=_order(order)
    )
    if ratings.n_raters < 2:
        raise ReviewerError(
            f"{file}: only one rater ({ratings.raters[0]}) — agreement needs at least two",
            "check the rater column (--rater) or add another rater's labels",
        )
    with progress_bar("agreement", unit="statistics") as progress:
        summary = agreement_summary(
            ratings,
            level=level,
            confidence=confidence,
            n_boot=n_boot,
            seed=seed,
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
        return
    for line in render_text(file, summary):
        echo(line)


def render_text(file: Path, summary: AgreementSummary) -> list[str]:
    """The summary as aligned lines: a header, the counts left out, then one row per statistic."""
    cats = ", ".join(str(c) for c in summary.categories[:8])
    more = "…" if len(summary.categories) > 8 else ""
    lines = [
        f"ratings  {file}: {summary.n_items:,} items, {summary.n_raters} raters, "
        f"{summary.n_ratings:,} labels",
        f"scale    {summary.level}: {cats}{more}",
    ]
    dropped = []
    if summary.n_single_rated:
        dropped.append(f"{summary.n_single_rated:,} item(s) rated once (not pairable)")
    if summary.n_missing:
        dropped.append(f"{summary.n_missing:,} empty label(s)")
    if summary.n_duplicates:
        dropped.append(f"{summary.n_duplicates:,} repeated (item, rater) row(s), last kept")
    if dropped:
        lines.append("left out " + "; ".join(dropped))
    level = f"{summary.percent_agreement.confidence:.0%}"
    lines += ["", f"{'statistic':<27} {'value':>7}  {level + ' interval':<18} method"]
    for estimate in summary.estimates:
        name = LABELS.get(estimate.statistic, estimate.statistic)
        if estimate.value is None:
            lines.append(f"{name:<27} {'—':>7}  {estimate.note or 'undefined'}")
            continue
        interval = (
            f"[{estimate.low:.3f}, {estimate.high:.3f}]"
            if estimate.low is not None and estimate.high is not None
            else "—"
        )
        lines.append(f"{name:<27} {estimate.value:>7.3f}  {interval:<18} {estimate.ci_method}")
    caveats = [e for e in summary.estimates if e.value is not None and e.note]
    if caveats:
        lines.append("")
    for estimate in caveats:
        lines.append(f"note: {LABELS.get(estimate.statistic, estimate.statistic)}: {estimate.note}")
    return lines


COMMANDS = [agreement_command]
