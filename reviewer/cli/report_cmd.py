"""``reviewer report``: the statistics as one self-contained HTML file or Markdown."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="report.html (self-contained: inline CSS and SVG, no JavaScript) or report.md",
)
@click.option(
    "--plan", default=None, help="Plan whose strata weight the estimates (default: newest)."
)
@click.option(
    "--category",
    default="nsfw",
    show_default=True,
    help="Label category of the tag table, prevalence and reviewer agreement.",
)
@click.option("--confidence", default=0.95, show_default=True, help="Level of every interval.")
def report_command(
    directory: Path, out: Path, plan: str | None, category: str, confidence: float
) -> None:
    """Write the audit report of DIRECTORY: tables, charts, sampling plan, method notes."""
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.errors import ReviewerError
    from reviewer.stats.audit_stats import compute_stats, hate_rates
    from reviewer.stats.report import write_report

    if out.suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise ReviewerError(f"--out {out}: unknown report format", "use a .html or .md file")
    if not 0 < confidence < 1:
        raise ReviewerError(f"--confidence {confidence}: must be between 0 and 1", "e.g. 0.95")
    audit = Audit.open(directory)
    with progress_bar("computing statistics", unit="steps") as progress:
        stats = compute_stats(audit, plan=plan, category=category, confidence=confidence,
                              progress=progress)
    stats.hcr = hate_rates(audit, confidence)
    path = write_report(stats, out)
    click.echo(f"wrote {path}")


COMMANDS: list[click.Command] = [report_command]
