"""``reviewer groups``: near-duplicate groups, decided once in the review app (key ``g``)."""

from __future__ import annotations

import click

from reviewer.grouping import DEFAULT_COSINE
from reviewer.matching import DEFAULT_PDQ_DISTANCE


@click.command("groups")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--by",
    type=click.Choice(["pdq", "sha256", "clip"]),
    default="pdq",
    show_default=True,
    help="Link equal image bytes (sha256), or also PDQ hashes within --pdq-distance (pdq), "
    "or image embeddings with cosine similarity of at least --cosine (clip).",
)
@click.option(
    "--pdq-distance", type=int, default=DEFAULT_PDQ_DISTANCE, show_default=True,
    help="PDQ link: Hamming distance at most this (0-31).",
)
@click.option(
    "--cosine", type=float, default=DEFAULT_COSINE, show_default=True,
    help="clip link: cosine similarity at least this (clip-retrieval's duplicate threshold).",
)
@click.option(
    "--embedding-model", default=None,
    help="clip: the embeddings' model (ARCH/PRETRAINED) when the audit holds several.",
)
def groups_command(
    directory: str, by: str, pdq_distance: int, cosine: float, embedding_model: str | None
) -> None:
    """Group the images of DIRECTORY into near-duplicate groups."""
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.grouping import build_groups

    audit = Audit.open(directory)
    try:
        audit.require_writable("groups")
        with progress_bar(f"groups by {by}", unit="vectors" if by == "clip" else "chunks") as bar:
            result = build_groups(audit, by, pdq_distance, cosine, embedding_model, bar)
    finally:
        audit.close()
    what = "embedded" if by == "clip" else "hashed"
    click.echo(
        f"groups by {result.method}: {result.members:,} of {result.samples:,} {what} samples in "
        f"{result.groups:,} groups of 2 or more (largest {result.largest:,})"
    )


COMMANDS: list[click.Command] = [groups_command]
