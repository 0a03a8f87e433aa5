"""``reviewer demo``: build a safe, synthetic demo audit from ``assets/`` and show it.

The demo must be safe to open anywhere: public-domain photos shipped in
``assets/demo/images`` and Pillow-drawn pictures, with captions that trip the
2021 LAION-400M keyword filter in innocent ways ("Essex", "hot chocolate").
Nothing sexual or hateful. Its dataset is named ``demo-synthetic``.

It also shows what keeps reviewers from seeing what need not be seen: a few
re-posts of its own photos (an exact copy, resized and re-compressed copies) are
grouped, and two stand-in items are on a small known-content list
(``assets/demo/known-list.txt``), so they are quarantined before anyone sees them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.assets import ASSETS

if TYPE_CHECKING:
    from reviewer.audit import Audit

DEMO_DATASET = "demo-synthetic"


def demo_assets() -> tuple[Path, Path]:
    """The demo metadata file and image folder.

    Raises:
        ReviewerError: The assets are missing (e.g. an install without the repository).
    """
    from reviewer.errors import ReviewerError

    metadata = ASSETS / "demo" / "demo-synthetic.csv"
    images = ASSETS / "demo" / "images"
    if not metadata.is_file() or not images.is_dir():
        raise ReviewerError(
            f"{ASSETS / 'demo'}: demo assets not found",
            "reinstall reviewer (its wheel ships the demo), run it from a clone of the "
            "repository, or set REVIEWER_ASSETS to an assets folder",
        )
    return metadata, images


def build_demo_audit(root: Path) -> Audit:
    """Create (or reuse) the demo audit at ``root`` and ingest the synthetic demo data.

    Idempotent: an existing demo audit is reused, and re-ingesting the same
    files adds nothing.
    """
    from reviewer.audit import Audit
    from reviewer.errors import ReviewerError
    from reviewer.ingest import ingest

    metadata, images = demo_assets()
    root = Path(root).expanduser().resolve()
    if (root / "audit.duckdb").exists():
        audit = Audit.open(root)
        others = set(audit.store.samples.summary().by_dataset) - {DEMO_DATASET}
        if others:
            raise ReviewerError(
                f"{root}: an audit with other data ({', '.join(sorted(others))})",
                "give the demo its own folder, e.g. `reviewer demo demo-audit`",
            )
    else:
        audit = Audit.init(root)
    ingest(audit.store, [str(metadata)], dataset=DEMO_DATASET, images=images)
    return audit


def flag_demo_audit(audit: Audit) -> None:
    """Run the flaggers that need no model (keyword, NSFW field) so the demo has flags to check."""
    from reviewer.flaggers.registry import canonical_name
    from reviewer.flaggers.runner import run_flagger

    done = audit.store.flags.latest_runs()
    for name in ("keyword", "nsfw-field"):
        if canonical_name(name) not in done:
            run_flagger(audit, name)


DEMO_LIST = "demo-list"


def expose_demo_audit(audit: Audit) -> list[str]:
    """Hash the demo's images, match the demo list and group near-duplicates, as
    ``reviewer flag --flagger image-hash``, ``reviewer match`` and ``reviewer groups``
    would; returns what to tell the user (counts only: listed items are never shown).
    Idempotent: each step runs once per demo audit."""
    from reviewer.flaggers.runner import run_flagger
    from reviewer.grouping import build_groups
    from reviewer.matching import match_list

    if "image_hash" not in audit.store.flags.latest_runs():
        run_flagger(audit, "image_hash")
    known = ASSETS / "demo" / "known-list.txt"
    if not any(run["list_name"] == DEMO_LIST for run in audit.labels.list_runs()):
        match_list(audit, str(known), DEMO_LIST)
    listed = sum(
        1 for reason in audit.labels.quarantine_table().column("reason").to_pylist()
        if reason == f"list:{DEMO_LIST}"
    )
    build_groups(audit, "sha256")
    groups = build_groups(audit, "pdq")
    return [
        f"known-content list {DEMO_LIST}: {listed} samples quarantined before anyone saw "
        f"them; they never appear (reviewer match DIR --list {known})",
        f"near-duplicate groups: {groups.members} samples in {groups.groups} groups "
        "(reviewer groups DIR); the queue shows one per group with its count, g decides "
        "the whole group",
    ]


@click.command("demo")
@click.argument("directory", type=click.Path(path_type=Path), default=Path("demo-audit"))
@click.option("--reviewer", "reviewer_name", metavar="NAME", help="Who is reviewing.")
@click.option("--no-review", is_flag=True, help="Build and flag the demo audit, do not open it.")
def demo_command(directory: Path, reviewer_name: str | None, no_review: bool) -> None:
    """Build a safe, synthetic demo audit in DIRECTORY (default ./demo-audit) and open it.

    The demo holds public-domain photos, drawn pictures and made-up captions that trip
    the 2021 LAION-400M keyword filter in innocent ways ("Essex", "hot chocolate"). It is
    flagged with the keyword and NSFW-field flaggers, its images hashed, matched against a
    small demo list of known content and grouped into near-duplicate groups, then opened
    in the review app.
    """
    import sys

    from reviewer.cli.audit_cmd import audit_summary, print_summary

    audit = build_demo_audit(directory)
    try:
        flag_demo_audit(audit)
        exposure = expose_demo_audit(audit)
        click.echo(
            "demo audit (SYNTHETIC data: public-domain photos, drawn pictures, made-up captions)"
        )
        print_summary(audit.root, audit_summary(audit))
        for line in exposure:
            click.echo(line)
        if no_review:
            return
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            click.echo(f"not a terminal: open it with `reviewer review {directory}`")
            return
        from reviewer.cli.review_cmd import run_review

        run_review(audit, reviewer_name, None)
    finally:
        audit.close()


COMMANDS = [demo_command]
