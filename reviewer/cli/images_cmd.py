"""``reviewer images``: attach local images to samples already in an audit, or check links."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError


@click.command("images")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--images",
    type=click.Path(path_type=Path),
    help="img2dataset output(s) (files, webdataset or parquet; or a parent of several),"
    " a .tar shard, or a folder of images named by key / sample id.",
)
@click.option(
    "--check", is_flag=True, help="Re-verify every link: present, decodes, url on record."
)
def images_command(directory: Path, images: Path | None, check: bool) -> None:
    """Link images to the samples of audit DIRECTORY by evidence, or --check the links.

    A link is made only where img2dataset's record of the image has the sample's
    url (and caption); see docs/ingest.md, "Matching rules". Samples are never
    duplicated; links into PATH that PATH's records contradict are removed.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.ingest.attach import CHECK_OUTCOMES, attach_images, check_links

    if images is None and not check:
        raise ReviewerError("nothing to do", "give --images PATH to link, or --check")
    audit = Audit.open(directory)
    if images is not None:  # linking writes; --check only reads
        audit.require_writable("images")
        with progress_bar("linking", unit="samples") as progress:
            report = attach_images(audit.store, images, progress=progress)
        echo(
            f"evidence  {report.shards:,} img2dataset shard(s), {report.strays:,} image(s)"
            f" without records under {report.images}"
        )
        print_links(report.links.lines(), report.changed)
        if report.unaccounted:
            echo(f"  {report.unaccounted:,} image(s) without any img2dataset record (not linked)")
    if check:
        with progress_bar("checking", unit="images") as progress:
            result = check_links(audit, progress=progress)
        echo(f"checked {result.checked:,} link(s)")
        for line in result.outcomes.lines(CHECK_OUTCOMES, always=("ok",)):
            echo(f"  {line}")
        if result.bad:
            raise ReviewerError(
                f"{result.bad:,} image link(s) failed the check",
                "re-fetch the shards named, or re-link with `reviewer images DIR --images PATH`",
            )


def print_links(lines: list[str], changed: int | None = None) -> None:
    """The linking outcome, one line per kind (used by ``ingest --images`` too)."""
    echo("images    " + (lines[0] if lines else "none linked"))
    for line in lines[1:]:
        echo(f"          {line}")
    if changed is not None:
        echo(f"          {changed:,} link(s) set or removed")


COMMANDS = [images_command]
