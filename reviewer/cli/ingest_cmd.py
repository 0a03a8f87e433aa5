"""``reviewer ingest``: read LAION-style metadata and image shards into an audit."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError


@click.command("ingest")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("sources", nargs=-1, required=True)
@click.option("--dataset", help="Dataset name to record (default: inferred, e.g. laion400m).")
@click.option(
    "--images",
    type=click.Path(path_type=Path),
    help="Folder (img2dataset output) or .tar shard(s) holding the images, matched by key/URL.",
)
def ingest_command(
    directory: Path, sources: tuple[str, ...], dataset: str | None, images: Path | None
) -> None:
    """Ingest SOURCES (parquet, CSV/TSV, webdataset .tar, folders, globs) into audit DIRECTORY.

    Each file is ingested whole or not at all; re-ingesting a file adds nothing.
    Row-level problems (empty captions, invalid UTF-8, duplicate ids) are kept or
    skipped and counted.
    """
    from reviewer.audit import Audit
    from reviewer.cli.audit_cmd import print_summary
    from reviewer.cli.progress import progress_bar
    from reviewer.ingest import ingest

    if dataset is not None and not dataset.strip():
        raise ReviewerError("--dataset: the name is empty", "give a name, or leave --dataset out")
    audit = Audit.open(directory)
    audit.require_writable("ingest")
    with progress_bar("ingesting", unit="rows") as progress:
        report = ingest(
            audit.store, list(sources), dataset=dataset, images=images, progress=progress
        )
    for file in report.files:
        if file.skipped:
            echo(f"skipped   {file.path}: {file.skipped}")
            continue
        echo(
            f"ingested  {file.path}: {file.inserted:,} of {file.rows_read:,} rows"
            f" as {file.dataset} ({file.flavour or file.kind})"
        )
        for line in file.warnings.lines():
            echo(f"  warning {line}", err=True)
    click.echo(f"added {report.inserted:,} samples, {report.warnings:,} warning(s)")
    print_summary(audit.root, audit.store.samples.summary())


COMMANDS = [ingest_command]
