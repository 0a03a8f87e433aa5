"""``reviewer stats``: precision of every filter, agreement with the tag and among reviewers."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.output import echo

if TYPE_CHECKING:
    from reviewer.stats.audit_stats import AuditStats


@click.command("stats")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--plan", default=None, help="Plan whose strata weight the estimates (default: newest)."
)
@click.option("--category", default="nsfw", show_default=True,
              help="Label category of the tag table, prevalence and reviewer agreement.")
@click.option("--confidence", default=0.95, show_default=True, help="Level of every interval.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def stats_command(
    directory: Path, plan: str | None, category: str, confidence: float, as_json: bool
) -> None:
    """Filter precision with intervals, miss rate, agreement, per-reviewer load for DIRECTORY.

    Verdicts: confirm (and escalate) = harmful, reject = benign; unsure and skip are
    left out of every binary statistic and counted separately.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.errors import ReviewerError
    from reviewer.stats.audit_stats import compute_stats

    if not 0 < confidence < 1:
        raise ReviewerError(f"--confidence {confidence}: must be between 0 and 1", "e.g. 0.95")
    audit = Audit.open(directory)
    with progress_bar("computing statistics", unit="steps") as progress:
        stats = compute_stats(audit, plan=plan, category=category, confidence=confidence,
                              progress=progress)
    if as_json:
        click.echo(json.dumps(_finite(stats.as_dict()), indent=2, default=str, allow_nan=False))
    else:
        for line in text_lines(stats):  # one by one: blank lines are layout, not a marker
            echo(line)


def _finite(value: Any) -> Any:
    """The same structure with every NaN or infinity replaced by None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def text_lines(stats: AuditStats) -> list[str]:
    """The statistics as plain text, at most 100 columns wide."""
    from reviewer.stats.exposure import exposure_lines

    t = stats.totals
    v = t["verdicts"]
    d = stats.design
    lines = [
        f"audit {stats.audit}",
        f"plan {stats.plan or '(none)'} · category {stats.category} · "
        f"{stats.confidence:.0%} intervals · estimates describe {d['describes']}",
        f"samples {t['samples']:,} (flagged {t['flagged']:,}, unflagged {t['unflagged']:,})",
        f"labels {t['labels']:,} on {t['labelled_items']:,} items by {t['reviewers']} reviewer(s):"
        f" confirm {v['confirm']:,}, reject {v['reject']:,}, unsure {v['unsure']:,},"
        f" skip {v['skip']:,}, escalate {v['escalate']:,}",
        f"labels on the plan's items {d['plan_labels']:,}; elsewhere {d['other_labels']:,}"
        " (used only where a figure says 'among labelled items')",
        "",
        *field_lines(stats),
    ]
    sections = (precision_lines(stats), target_lines(stats), probe_lines(stats),
                agreement_lines(stats),
                reviewer_lines(stats), exposure_lines(stats.exposure), strata_lines(stats))
    for section in filter(None, sections):  # an empty section adds no blank line
        lines += ["", *section]
    if stats.notes:
        lines += ["", "Notes"]
        for note in stats.notes:
            lines += textwrap.wrap(note, 98, initial_indent="  - ", subsequent_indent="    ")
    return lines


def field_lines(stats: AuditStats) -> list[str]:
    """People against the LAION NSFW tag: tables, confirmed share per tag, coefficients."""
    from reviewer.stats import formatting as fmt

    lines = ["People vs the LAION NSFW tag (rows: majority verdict, unsure = unsure or tie)",
             f"  {'':<14}{'UNLIKELY':>10}{'UNSURE':>10}{'NSFW':>10}   labelled items"]
    for row in stats.field_table:
        lines.append(f"  {row['human']:<14}{row['UNLIKELY']:>10,}{row['UNSURE']:>10,}"
                     f"{row['NSFW']:>10,}")
    if stats.field_table_weighted:
        lines.append(f"  {'':<14}{'UNLIKELY':>10}{'UNSURE':>10}{'NSFW':>10}"
                     "   estimated items of the plan's population")
        for row in stats.field_table_weighted:
            lines.append(f"  {row['human']:<14}{row['UNLIKELY']:>10,.0f}{row['UNSURE']:>10,.0f}"
                         f"{row['NSFW']:>10,.0f}")
    for row in stats.field_by_tag:
        labelled = fmt.pct_range(row["labelled_low"], row["labelled_high"])
        lines.append(f"  tag {row['tag']:<9} confirmed {fmt.pct(row['share']):>7}"
                     f" {fmt.pct_range(row['low'], row['high']):>13} · among labelled"
                     f" {row['confirmed']:,}/{row['judged']:,} {fmt.pct(row['labelled_share'])}"
                     f" (Wilson {labelled})")
    scope = "design-based" if stats.field_table_weighted else "among labelled items"
    lines.append(f"  coefficients ({scope}):")
    for key, label in fmt.FIELD_LABELS.items():
        if key in stats.field_agreement:
            lines += textwrap.wrap(f"{label:<34} {fmt.estimate(stats.field_agreement[key])}",
                                   98, initial_indent="  ", subsequent_indent=" " * 37)
    return lines


def precision_lines(stats: AuditStats) -> list[str]:
    """Per-flag precision (design-based, then among labelled items), recall, miss rate."""
    from reviewer.stats import formatting as fmt

    lines = [
        "Filter precision = P(confirmed | flagged) over the plan's population"
        " (design-based, Korn–Graubard)",
        f"  {'':<18}{'':>9}{'design-based':>21} | {'among labelled items':>34}",
        f"  {'flag':<18}{'flagged':>9}{'prec':>7}{'interval':>14} | {'conf/judged':>13}"
        f"{'share':>7}{'Wilson':>14}",
    ]
    for r in stats.precision:
        counts = f"{r['confirmed']:,}/{r['judged']:,}"
        lines.append(
            f"  {r['flag'][:18]:<18}{r['flagged']:>9,}{fmt.pct(r['precision']):>7}"
            f"{fmt.pct_range(r['low'], r['high']):>14} | "
            f"{counts:>13}{fmt.pct(r['labelled_share']):>7}"
            f"{fmt.pct_range(r['wilson_low'], r['wilson_high']):>14}"
        )
        extra = [f"Clopper–Pearson (labelled) {fmt.pct_range(r['cp_low'], r['cp_high'])}"]
        if r["precision"] is not None:
            census = " (every item labelled: exact)" if r["low"] == r["high"] else ""
            extra.insert(0, f"{r['design_labels']:,} plan labels in the flag{census}")
        if r["recall"] is not None:
            extra.append(f"recall {fmt.pct(r['recall'])}"
                         f" {fmt.pct_range(r['recall_low'], r['recall_high'])}")
        lines += textwrap.wrap(" · ".join(extra), 98, initial_indent=" " * 21,
                               subsequent_indent=" " * 21)
        for note in r["notes"]:
            lines += textwrap.wrap(note, 98, initial_indent=" " * 21 + "note: ",
                                   subsequent_indent=" " * 27)
    if not stats.precision:
        lines.append("  (no flags yet)")
    if stats.prevalence:
        p = stats.prevalence
        lines.append(f"Harmful share of the plan's population: {fmt.pct(p['estimate'])}"
                     f" ({fmt.pct_range(p['low'], p['high'])}, {p['labelled']:,} items)")
    if stats.miss_rate:
        m = stats.miss_rate
        lines.append(f"Miss rate (control, unflagged): {m['harmful']:,}/{m['judged']:,} →"
                     f" {fmt.pct(m['estimate'])} ({fmt.pct_range(m['low'], m['high'])})")
    if stats.overlap:
        lines.append("Flag overlap (items raised by both)")
        lines += [f"  {o['flag_a']} & {o['flag_b']}: {o['items']:,}" for o in stats.overlap]
    return lines


def target_lines(stats: AuditStats) -> list[str]:
    """Each design-based target with the labels it used and what SRS would have needed."""
    from reviewer.stats import formatting as fmt

    if not stats.targets:
        return []
    lines = ["Targets (design-based): labels used and simple-random-sample labels for the same"
             " interval width",
             f"  {'target':<30}{'estimate':>9}{'interval':>16}{'labels':>9}{'SRS labels':>12}"]
    for t in stats.targets:
        srs = "—" if t["srs_equivalent_labels"] is None else f"{t['srs_equivalent_labels']:,}"
        lines.append(f"  {t['target'][:30]:<30}{fmt.pct(t['estimate']):>9}"
                     f"{fmt.pct_range(t['low'], t['high']):>16}{t['labels']:>9,}{srs:>12}")
    for method in dict.fromkeys(t["method"] for t in stats.targets if t["method"]):
        lines += textwrap.wrap(f"method: {method}", 98, initial_indent="  ",
                               subsequent_indent="    ")
    return lines


def agreement_lines(stats: AuditStats) -> list[str]:
    """Agreement among reviewers on shared items."""
    from reviewer.stats import formatting as fmt

    a: dict[str, Any] = stats.agreement
    lines = [f"Reviewer agreement among labelled items ({a['n_items']:,} items judged by ≥ 2"
             f" of {a['n_raters']} reviewers; binary verdicts)"]
    if a.get("note"):
        lines.append(f"  {a['note']}")
    for key, label in fmt.AGREEMENT_LABELS.items():
        if key in a["overall"]:
            lines.append(f"  {label:<26} {fmt.estimate(a['overall'][key])}")
    for pair in a["pairs"]:
        lines.append(f"  Cohen κ {pair['a']} / {pair['b']}: {fmt.estimate(pair)}")
    return lines


def reviewer_lines(stats: AuditStats) -> list[str]:
    """Per-reviewer workload and exposure."""
    from reviewer.stats import formatting as fmt

    lines = ["Reviewers",
             f"  {'reviewer':<16}{'items':>8}{'conf':>6}{'rej':>6}{'uns':>5}{'skip':>5}{'esc':>4}"
             f"{'s/item':>8}{'reveals':>8}{'rev. s':>8}{'breaks':>7}{'snoozed':>8}"]
    for r in stats.reviewers:
        lines.append(
            f"  {r['reviewer'][:16]:<16}{r['items']:>8,}{r['confirm']:>6,}{r['reject']:>6,}"
            f"{r['unsure']:>5,}{r['skip']:>5,}{r['escalate']:>4,}"
            f"{fmt.seconds(r['median_seconds']):>8}"
            f"{r['reveals']:>8,}{r['revealed_seconds']:>8.0f}{r['breaks_taken']:>7,}"
            f"{r['breaks_snoozed']:>8,}"
        )
    return lines


def probe_lines(stats: AuditStats) -> list[str]:
    """Probes compared: judged harmful among their top K, the tag's and the flags' shares."""
    from reviewer.stats import formatting as fmt

    if not stats.probes:
        return []
    lines = ["Probes: top K by similarity (harmful = confirmed among judged items)",
             f"  {'probe':<24}{'K':>6}{'judged':>8}{'harmful':>9}{'interval':>17}"
             f"{'NSFW':>7}{'UNSURE':>8}{'keyword':>9}{'hate':>7}"]
    for r in stats.probes:
        lines.append(
            f"  {r['probe'][:24]:<24}{r['items']:>6,}{r['judged']:>8,}"
            f"{fmt.pct(r['harmful_share']):>9}"
            f"{fmt.pct_range(r['harmful_low'], r['harmful_high']):>17}"
            f"{fmt.pct(r['tag_nsfw']):>7}{fmt.pct(r['tag_unsure']):>8}"
            f"{fmt.pct(r['keyword']):>9}{fmt.pct(r['hate']):>7}"
        )
    return lines


def strata_lines(stats: AuditStats) -> list[str]:
    """The plan's strata with the labels each has so far."""
    if not stats.strata:
        return []
    lines = [f"Sampling plan {stats.plan}: strata (labelled = items with a binary verdict)",
             f"  {'stratum':<52}{'N_h':>13}{'n_h':>9}{'labelled':>10}{'n_h/N_h':>10}"]
    for s in stats.strata:
        lines.append(f"  {s['stratum'][:52]:<52}{s['population']:>13,}{s['drawn']:>9,}"
                     f"{s.get('labelled', 0):>10,}{s['inclusion_prob']:>10.3g}")
    return lines


COMMANDS: list[click.Command] = [stats_command]
