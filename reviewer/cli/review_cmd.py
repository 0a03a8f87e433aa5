"""``reviewer review``: open the review app on an audit's flagged samples or a plan's queue.

Everything that can be wrong with the command line (no audit, a bad ``[keys]``
table, an unknown queue, a reviewer the plan does not know, no terminal) is
checked here, before the app starts, so it ends in one clear line instead of a
half-drawn screen.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.audit import Audit


@click.command("review")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--reviewer",
    "reviewer_name",
    metavar="NAME",
    help="Who is reviewing (default: [reviewer] name in reviewer.toml, else the OS user).",
)
@click.option(
    "--queue",
    "queue_name",
    metavar="NAME",
    help="Review a sampling plan's queue (from `reviewer sample --name NAME`); "
    "default: flagged samples you have not labelled yet, in seeded random order.",
)
def review_command(directory: Path, reviewer_name: str | None, queue_name: str | None) -> None:
    """Review flagged samples of the audit DIRECTORY: images stay blurred until you reveal them.

    Keys (remappable in reviewer.toml [keys]): y confirm, n reject, u unsure, s skip,
    e e escalate, r reveal, h hide, z undo, ←/→ move, c category, m note, t stats,
    ? help, q quit. Every decision is saved the moment its key is pressed.
    """
    from reviewer.audit import Audit

    audit = Audit.open(directory)
    try:
        run_review(audit, reviewer_name, queue_name)
    finally:
        audit.close()


def run_review(audit: Audit, reviewer_name: str | None, queue_name: str | None) -> None:
    """Check the command line, open the review app on ``audit`` and print the session summary.

    Shared by ``reviewer review`` and ``reviewer demo``.
    """
    from reviewer.review.queue import check_reviewer_name
    from reviewer.tui.keymap import validate_keymap
    from reviewer.tui.launch import prepare_in_background

    audit.require_writable("review")
    name = check_reviewer_name(audit.reviewer_name(reviewer_name))
    validate_keymap(audit.settings.keys)
    _check_label_store(audit)
    fetch_line = _fetch_line(audit)  # an unknown [images] fetch value fails here, at once
    if queue_name is not None:
        _check_plan(audit, name, queue_name)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ReviewerError(
            "reviewer review needs an interactive terminal",
            "run it in a terminal (over SSH: ssh -t)",
        )
    click.echo(fetch_line, err=True)
    known = audit.labels.reviewers()
    if known and name not in known:
        click.echo(f"note: new reviewer '{name}' (known: {', '.join(known)})", err=True)
    pending = prepare_in_background(audit, name, queue_name)
    from reviewer.tui.app import ReviewerApp  # imported while the queue loads

    ready = pending.result()
    app = ReviewerApp(audit, ready.session, audit.settings, previews=ready.previews)
    app.review_screen.rows.add(ready.page, ready.items)
    summary = app.run()
    if summary is None:
        summary = ready.session.end()
    for line in summary.lines():
        click.echo(line)


def _check_label_store(audit: Audit) -> None:
    """Refuse to add decisions to a damaged label file (SQLite's quick_check, before the app)."""
    from reviewer.store.damage import damaged_labels_error

    findings = audit.labels.check()
    if findings:
        raise damaged_labels_error(audit.paths.labels, findings[0])


_FETCH_WORDS = {
    "never": "images without a local copy are not fetched (no server is contacted)",
    "on-reveal": "an image without a local copy is fetched from its URL only when you reveal it",
    "prefetch": "images without a local copy are fetched from their URLs ahead of reveals",
}


def _fetch_line(audit: Audit) -> str:
    """The one line saying which ``[images] fetch`` mode this session runs in."""
    from reviewer.images.resolve import active_fetch_mode

    mode = active_fetch_mode(audit)
    return f"fetch mode: {mode} — {_FETCH_WORDS[mode]} ([images] fetch in reviewer.toml)"


def _check_plan(audit: Audit, reviewer: str, plan: str) -> None:
    """Refuse an unknown plan, or a plan that deals no items to this reviewer."""
    if audit.store.probes.probe(plan) is not None:
        return  # a probe's queue: everybody shares it
    info = audit.store.plans.get(plan)
    if info.reviewers and reviewer not in info.reviewers:
        raise ReviewerError(
            f"plan '{plan}' has no items for reviewer '{reviewer}'",
            f"its reviewers: {', '.join(info.reviewers)}",
        )


COMMANDS: list[click.Command] = [review_command]
