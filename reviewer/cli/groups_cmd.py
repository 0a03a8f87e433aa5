"""``reviewer groups``: near-duplicate groups, decided once in the review app (key ``g``)."""

from __future__ import annotations

import click

from reviewer.matching import DEFAULT_PDQ_DISTANCE


@click.command("groups")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--by",
    type=click.Choice(["pdq", "sha256"]),
    default="pdq",
    show_default=True,
    help="Link equal image bytes (sha256), or also PDQ hashes within --pdq-distance (pdq).",
)
@click.option(
    "--pdq-distance", type=int, default=DEFAULT_PDQ_DISTANCE, show_default=True,
    help="PDQ link: Hamming distance at most this (0-31).",
)
def groups_command(directory: str, by: str, pdq_distance: int) -> None:
    """Group the hashed images of DIRECTORY into near-duplicate groups."""
    from reviewer.audit import Audit
    from reviewer.grouping import build_groups

    audit = Audit.open(directory)
    try:
        result = build_groups(audit, by, pdq_distance)
    finally:
        audit.close()
    click.echo(
        f"groups by {result.method}: {result.members:,} of {result.hashed:,} hashed samples in "
        f"{result.groups:,} groups of 2 or more (largest {result.largest:,})"
    )


COMMANDS: list[click.Command] = [groups_command]
