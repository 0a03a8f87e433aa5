"""``reviewer export``: labelled subsets, per-reviewer detail and removal lists."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.store.export_sql import CONSENSUS_RULES, JUDGED_VERDICTS
from reviewer.store.exporting import FORMATS


@click.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (.parquet, .csv, .jsonl). Default: DIR/exports/<kind>-<time>.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format; default from the extension of --out.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE and FILE.meta.json if they exist.")
@click.option(
    "--removal-list",
    is_flag=True,
    help="Only identifiers (sample_id, url, hash) of confirmed or escalated samples.",
)
@click.option("--long", is_flag=True, help="One row per decision event (per-reviewer detail).")
@click.option(
    "--consensus",
    type=click.Choice(CONSENSUS_RULES),
    default="majority",
    show_default=True,
    help="How reviewers' verdicts combine; ties are unsure.",
)
@click.option("--labelled", is_flag=True, help="Only samples with a decision.")
@click.option(
    "--verdict",
    type=click.Choice(JUDGED_VERDICTS),
    default=None,
    help="Only samples whose consensus is this verdict.",
)
@click.option(
    "--category",
    default=None,
    help="Apply --labelled/--verdict/--disagreements to this category only.",
)
@click.option(
    "--flagged-by",
    multiple=True,
    metavar="FLAGGER",
    help="Only samples this flagger (or flag) flagged. Repeatable (all must hold).",
)
@click.option(
    "--not-flagged-by",
    multiple=True,
    metavar="FLAGGER",
    help="Only samples this flagger (or flag) did not flag. Repeatable.",
)
@click.option(
    "--disagreements",
    is_flag=True,
    help="Only samples where reviewers disagree, or consensus and flags disagree.",
)
@click.option("--dataset", default=None, help="Only samples of this dataset.")
@click.option("--queue", default=None, help="Only samples of this sampling plan (queue).")
@click.option(
    "--reviewer",
    default=None,
    help="Only samples this reviewer decided on (--long: only their events).",
)
@click.option(
    "--with-image-path",
    is_flag=True,
    help="Add image_path (/abs/file, shard.tar#member or shard.parquet#row) and"
    " image_sha256 of each sample's linked image (never the bytes).",
)
def export_command(
    directory: Path,
    out: Path | None,
    fmt: str | None,
    force: bool,
    removal_list: bool,
    long: bool,
    consensus: str,
    labelled: bool,
    verdict: str | None,
    category: str | None,
    flagged_by: tuple[str, ...],
    not_flagged_by: tuple[str, ...],
    disagreements: bool,
    dataset: str | None,
    queue: str | None,
    reviewer: str | None,
    with_image_path: bool,
) -> None:
    """Export samples of the audit DIRECTORY with flags and consensus labels.

    Filters combine (all must hold). Escalated samples never appear with their
    content: only in --removal-list, as identifiers. Never writes image bytes.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.export import ExportOptions, export

    options = ExportOptions(
        out=out,
        fmt=fmt,
        force=force,
        removal_list=removal_list,
        long=long,
        consensus=consensus,
        labelled=labelled,
        verdict=verdict,
        category=category,
        flagged_by=flagged_by,
        not_flagged_by=not_flagged_by,
        disagreements=disagreements,
        dataset=dataset,
        queue=queue,
        reviewer=reviewer,
        with_image_path=with_image_path,
    )
    audit = Audit.open(directory)
    try:
        with progress_bar("exporting", unit="%") as progress:
            result = export(audit, options, progress=progress)
    finally:
        audit.close()
    if result.empty:
        click.echo(
            f"no samples matched: wrote an empty {result.format} file"
            + (" with the schema" if result.format != "jsonl" else "")
            + f" to {result.path}",
            err=True,
        )
    if result.withheld_escalated:
        click.echo(
            f"{result.withheld_escalated:,} escalated sample(s) withheld: they appear only in"
            " --removal-list",
            err=True,
        )
    click.echo(f"wrote {result.rows:,} rows to {result.path}")
    click.echo(f"sidecar {result.sidecar}")


COMMANDS = [export_command]
