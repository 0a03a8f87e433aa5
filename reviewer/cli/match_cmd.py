"""``reviewer match``: quarantine samples on a known-content list, never showing them.

Prints counts per list and entry type only: a matched sample's caption, URL or
pixels are never printed (see :mod:`reviewer.matching`).
"""

from __future__ import annotations

import click

from reviewer.matching import DEFAULT_MIN_QUALITY, DEFAULT_PDQ_DISTANCE


@click.command("match")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--list",
    "list_path",
    required=True,
    type=click.Path(path_type=str),
    help="List file: md5:/sha1:/sha256:/pdq:/url:/domain: lines, or CSV type,value.",
)
@click.option("--name", default=None, help="The list's name (default: the file name).")
@click.option(
    "--pdq-distance",
    type=int,
    default=DEFAULT_PDQ_DISTANCE,
    show_default=True,
    help="PDQ match: Hamming distance at most this.",
)
@click.option(
    "--min-quality",
    type=int,
    default=DEFAULT_MIN_QUALITY,
    show_default=True,
    help="PDQ hashes of lower quality are not matched perceptually (reported).",
)
def match_command(
    directory: str, list_path: str, name: str | None, pdq_distance: int, min_quality: int
) -> None:
    """Quarantine every sample of DIRECTORY that a known-content list matches."""
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.matching import match_list

    audit = Audit.open(directory)
    try:
        audit.require_writable("match")
        with progress_bar("match pdq", unit="chunks") as progress:
            result = match_list(audit, list_path, name, pdq_distance, min_quality, progress)
    finally:
        audit.close()
    entries = ", ".join(f"{kind} {count:,}" for kind, count in sorted(result.entries.items()))
    click.echo(
        f"list {result.list_name}: {sum(result.entries.values()):,} entries ({entries})"
        + (f", {result.duplicates:,} duplicate lines ignored" if result.duplicates else "")
    )
    for kind in sorted(result.entries):
        click.echo(f"  {kind}: {result.matched.get(kind, 0):,} samples matched")
    click.echo(
        f"list {result.list_name}: {result.samples_matched:,} samples matched, "
        f"{result.quarantined:,} newly quarantined (reason list:{result.list_name}), "
        f"{result.files_deleted:,} cached files deleted"
    )
    if result.low_quality:
        click.echo(
            f"list {result.list_name}: {result.low_quality:,} images with PDQ quality below "
            f"{min_quality} were not matched perceptually",
            err=True,
        )


COMMANDS: list[click.Command] = [match_command]
