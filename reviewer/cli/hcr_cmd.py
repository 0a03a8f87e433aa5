"""``reviewer hcr``: hate content rate of an audit's captions, with intervals and comparisons.

Reads the newest complete ``hate`` run (``reviewer flag DIR --flagger hate``) and
prints HCR per type and any-of-three (Wilson and Clopper-Pearson intervals), the
HCR curve over thresholds 0.1-0.9, and, when the audit holds two datasets, their
comparison as in Birhane et al. 2023 (per-file HCR t-tests, Cohen's d, and the
conservative non-overlap test). See :mod:`reviewer.stats.hcr` for the method.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError
from reviewer.flag_specs import HATE_THRESHOLD


@click.command("hcr")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Probability above which a caption counts; default reviewer.toml (0.5).",
)
@click.option(
    "--by",
    type=click.Choice(["dataset", "source_file"]),
    default=None,
    help="Report HCR per dataset or per source file.",
)
@click.option(
    "--compare",
    default=None,
    metavar="A,B",
    help="Compare two datasets (default: the two datasets, when there are two).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the HCR curve (thresholds 0.1-0.9) to this CSV file.",
)
@click.option("--no-plot", is_flag=True, help="Do not draw the curve in the terminal.")
def hcr_command(
    directory: str,
    threshold: float | None,
    by: str | None,
    compare: str | None,
    as_json: bool,
    csv_path: str | None,
    no_plot: bool,
) -> None:
    """Hate content rate of the audit DIRECTORY's captions."""
    from reviewer.audit import Audit
    from reviewer.stats import hcr

    audit = Audit.open(directory)
    try:
        threshold = hcr.check_threshold(
            audit.settings.flags[HATE_THRESHOLD] if threshold is None else threshold
        )
        scores = audit.store.flags.scores_with_samples("hate", ("dataset", "source_file"))
    finally:
        audit.close()
    groups = hcr.split_groups(scores, by)
    rows = [row for name, part in groups.items() for row in hcr.hcr_rows(part, threshold, name)]
    curve = [row for name, part in groups.items() for row in hcr.hcr_curve(part, name)]
    pair = _pair(compare, sorted(hcr.split_groups(scores, "dataset")))
    comparison = hcr.compare_datasets(scores, pair[0], pair[1], threshold) if pair else []
    if csv_path:
        _write_csv(Path(csv_path), [r.as_dict() for r in curve])
    if as_json:
        click.echo(
            json.dumps(
                {
                    "threshold": threshold,
                    "by": by,
                    "hcr": [r.as_dict() for r in rows],
                    "curve": [r.as_dict() for r in curve],
                    "comparison": [c.as_dict() for c in comparison],
                },
                indent=2,
            )
        )
        return
    _print_rates(rows, threshold)
    if not no_plot:
        click.echo(_plot(curve))
    if comparison:
        _print_comparison(comparison, threshold)


def _pair(compare: str | None, datasets: list[str]) -> tuple[str, str] | None:
    """The two datasets to compare: ``--compare A,B``, or the only two there are."""
    if compare:
        names = [n.strip() for n in compare.split(",") if n.strip()]
        if len(names) != 2 or names[0] == names[1]:
            raise ReviewerError(
                f"--compare {compare}: give two different dataset names", "e.g. A,B"
            )
        unknown = [n for n in names if n not in datasets]
        if unknown:
            raise ReviewerError(
                f"--compare {compare}: no hate scores for dataset {unknown[0]!r}",
                f"datasets with hate scores: {', '.join(datasets) or 'none'}",
            )
        return names[0], names[1]
    return (datasets[0], datasets[1]) if len(datasets) == 2 else None


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:6.2f}"


def _print_rates(rows: list[Any], threshold: float) -> None:
    echo(f"Hate content rate (P > {threshold:g}); intervals 95 %")
    echo(
        f"{'group':<24} {'type':<10} {'k':>9} {'n':>10} {'HCR %':>7}"
        f"  {'Wilson %':>15}  {'Clopper-Pearson %':>17}"
    )
    for r in rows:
        w, cp = r.wilson, r.clopper_pearson
        echo(
            f"{r.group[:24]:<24} {r.type:<10} {w.k:>9,} {w.n:>10,} {_pct(w.estimate):>7}"
            f"  {_pct(w.low)}-{_pct(w.high).strip():<8}  {_pct(cp.low)}-{_pct(cp.high).strip():<10}"
        )


def _plot(curve: list[Any]) -> str:
    """The any-of-three HCR curve per group as a terminal plot."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(80, 20)
    plt.theme("clear")
    groups = sorted({r.group for r in curve})
    for group in groups:
        points = [r for r in curve if r.group == group and r.type == "any"]
        plt.plot(
            [p.threshold for p in points],
            [100 * (p.wilson.estimate or 0.0) for p in points],
            label=group[:20],
        )
    plt.title("HCR (any of three) by threshold")
    plt.xlabel("threshold")
    plt.ylabel("HCR %")
    return str(plt.build())


def _print_comparison(comparison: list[Any], threshold: float) -> None:
    first = comparison[0]
    echo(
        f"\nComparison {first.a} (A, {first.files_a} files) vs {first.b} "
        f"(B, {first.files_b} files), per-file HCR at P > {threshold:g}"
    )
    echo(
        f"{'type':<10} {'mean A %':>9} {'mean B %':>9} {'Student t':>10} {'p':>8}"
        f" {'Welch t':>9} {'p':>8} {'df':>6} {'d':>7}  conservative (CP 95 %)"
    )
    for c in comparison:
        echo(
            f"{c.type:<10} {_pct(c.mean_a):>9} {_pct(c.mean_b):>9} {_num(c.student_t, 10)}"
            f" {_num(c.student_p, 8, 4)} {_num(c.welch_t, 9)} {_num(c.welch_p, 8, 4)}"
            f" {_num(c.welch_df, 6, 1)} {_num(c.cohens_d, 7)}  {c.conservative}"
        )


def _num(value: float | None, width: int, digits: int = 3) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write the curve whole or not at all (a full disk leaves no empty CSV behind)."""
    from reviewer.atomic import write_text_atomically

    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["group"])
    writer.writeheader()
    writer.writerows(rows)
    try:
        write_text_atomically(path, text.getvalue())
    except OSError as exc:
        raise ReviewerError(
            f"{path}: cannot write the CSV ({exc.strerror or exc})",
            "check the folder exists, is writable and has free space",
        ) from exc


COMMANDS: list[click.Command] = [hcr_command]
