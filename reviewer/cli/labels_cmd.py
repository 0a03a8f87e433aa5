"""``reviewer labels import``: bring decisions made in another tool into the audit."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from reviewer.cli.output import echo


@click.group("labels")
def labels_group() -> None:
    """Labels made outside the review app."""


@labels_group.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def import_command(directory: Path, file: Path, as_json: bool) -> None:
    """Import decisions from FILE (CSV, TSV, JSONL or parquet) into the audit DIRECTORY.

    Columns: sample_id, reviewer, category, verdict (confirm, reject, unsure, skip,
    escalate), optional created_at (ISO 8601) and note. Every row is checked first;
    one bad row imports nothing, and the error names it (row N = the N-th data row).
    The events keep the queue name import:<file name>.
    """
    from reviewer.audit import Audit
    from reviewer.label_import import import_labels

    audit = Audit.open(directory)
    audit.require_writable("labels import")
    result = import_labels(audit, file)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    echo(f"imported {result.decisions:,} decision(s) from {file.name} as queue"
         f" {result.queue}: reviewers {', '.join(result.reviewers)};"
         f" categories {', '.join(result.categories)}")


COMMANDS: list[click.Command] = [labels_group]
