"""``reviewer ingest``: read LAION-style metadata and image shards into an audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.embeddings.attach import EmbeddingPlan


@click.command("ingest")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("sources", nargs=-1, required=True)
@click.option("--dataset", help="Dataset name to record (default: inferred, e.g. laion400m).")
@click.option(
    "--images",
    type=click.Path(path_type=Path),
    help="img2dataset output(s) or a .tar shard holding the images; linked by url evidence"
    " (docs/ingest.md, 'Matching rules'). Works on already-ingested sources too.",
)
@click.option(
    "--embeddings",
    type=click.Path(path_type=Path),
    help="LAION's img_emb/ (or text_emb/) folder, paired by index with metadata_N.parquet,"
    " or one FILE.npy for one metadata file; refused whole on any mismatch.",
)
@click.option(
    "--embedding-model",
    help="Model of the embeddings as ARCH/PRETRAINED (default by dimension:"
    " 512 ViT-B-32/openai, 768 ViT-L-14/openai).",
)
@click.option(
    "--embedding-kind",
    type=click.Choice(["image", "text"]),
    help="What the arrays embed (default: text for text_emb files, else image).",
)
def ingest_command(
    directory: Path,
    sources: tuple[str, ...],
    dataset: str | None,
    images: Path | None,
    embeddings: Path | None,
    embedding_model: str | None,
    embedding_kind: str | None,
) -> None:
    """Ingest SOURCES (parquet, CSV/TSV, webdataset .tar, folders, globs) into audit DIRECTORY.

    Each file is ingested whole or not at all; re-ingesting a file adds nothing.
    Row-level problems (empty captions, invalid UTF-8, duplicate ids) are kept or
    skipped and counted.
    """
    from reviewer.audit import Audit
    from reviewer.cli.audit_cmd import print_summary
    from reviewer.cli.images_cmd import print_links
    from reviewer.cli.progress import progress_bar
    from reviewer.ingest import ingest

    if dataset is not None and not dataset.strip():
        raise ReviewerError("--dataset: the name is empty", "give a name, or leave --dataset out")
    audit = Audit.open(directory)
    audit.require_writable("ingest")
    planned = (
        _plan_embeddings(audit, sources, embeddings, embedding_model, embedding_kind)
        if embeddings is not None
        else None
    )
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
    if report.attached is not None:
        print_links(report.attached.links.lines(), report.attached.changed)
    elif any(f.links.counts for f in report.files):
        print_links(report.links.lines())
    if planned is not None:
        _attach_embeddings(audit, planned)
    print_summary(audit.root, audit.store.samples.summary())


def _plan_embeddings(
    audit: Audit, sources: tuple[str, ...], embeddings: Path, model: str | None, kind: str | None
) -> EmbeddingPlan:
    """Pair and check the arrays before any row is ingested (nothing is stored on refusal)."""
    from reviewer.embeddings.attach import prepare
    from reviewer.ingest.sources import expand_sources

    metadata = [unit.path for unit in expand_sources(list(sources))]
    return prepare(audit, metadata, embeddings, model, kind)


def _attach_embeddings(audit: Audit, planned: EmbeddingPlan) -> None:
    from reviewer.embeddings.attach import attach

    for result in attach(audit, planned):
        name = result.pair.array.path
        if result.skipped:
            echo(f"skipped   {name}: already stored")
        else:
            echo(
                f"embedded  {name}: {result.pair.array.rows:,} {result.pair.array.dim}-d vectors"
                f" ({result.rows_with_sample:,} with a sample) as {planned.model} {planned.kind}"
            )


COMMANDS = [ingest_command]
