"""``reviewer init`` and ``reviewer info``: create an audit, show what it holds."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from reviewer.audit import Audit
from reviewer.cli.output import echo
from reviewer.store.samples import AuditSummary


def audit_summary(audit: Audit) -> AuditSummary:
    """The audit's summary with the number of samples each flag raised."""
    summary = audit.store.samples.summary()
    counts = audit.store.flags.counts(audit.settings).to_pylist()
    summary.flag_runs = {row["flag"]: int(row["flagged"]) for row in counts}
    return summary


def print_summary(root: Path, summary: AuditSummary) -> None:
    """Print an audit summary as a few aligned lines."""
    echo(f"audit     {root}")
    echo(f"samples   {summary.samples:,} from {summary.files} file(s)")
    for name, count in summary.by_dataset.items():
        echo(f"  {name:<20} {count:,}")
    tags = ", ".join(f"{k} {v:,}" for k, v in summary.nsfw_tags.items())
    echo(f"NSFW tag  {tags or '-'}")
    echo(f"images    {summary.with_images:,} samples with a local image")
    if summary.flag_runs:
        runs = ", ".join(f"{k} ({v:,})" for k, v in summary.flag_runs.items())
        echo(f"flagged   {runs}")
    echo(f"labels    {summary.labels:,} by {summary.reviewers} reviewer(s)")


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Create a new audit folder DIRECTORY."""
    audit = Audit.init(directory)
    echo(f"created audit {audit.root}")
    echo(f"next: reviewer ingest {directory} LAION_PARQUET...")


@click.command("info")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info_command(directory: Path, as_json: bool) -> None:
    """Show what the audit DIRECTORY holds."""
    audit = Audit.open(directory)
    summary = audit_summary(audit)
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
    else:
        print_summary(audit.root, summary)


COMMANDS = [init_command, info_command]
