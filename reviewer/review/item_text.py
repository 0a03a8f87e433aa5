"""The words around an item: its metadata lines, the progress line, the empty-queue text.

Plain functions of the session and the item, so the review screen only places
them and tests can read them without a UI. Every value here may come from the
data (URLs, names); the screen neutralises the strings before drawing them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from reviewer.review.session import ReviewSession
from reviewer.store.review import ReviewItem


def metadata(item: ReviewItem, session: ReviewSession) -> dict[str, str]:
    """Label -> value lines under the caption: dataset, URL domain, license, size, …"""
    row = item.row
    meta = {"sample": item.sample_id}
    if session.is_breather:
        meta["breather"] = "a benign item, mixed in to give you a rest"
    meta["dataset"] = str(row.get("dataset") or "?")
    try:
        domain = urlsplit(str(row.get("url") or "")).hostname or "?"
    except ValueError:
        domain = "?"
    meta["domain"] = domain
    meta["license"] = str(row.get("license") or "?")
    width, height = row.get("width"), row.get("height")
    meta["size"] = f"{width}×{height}" if width and height else "?"
    group = session.group
    if group is not None and len(group[1]) > 1:
        meta["group"] = group_line(len(group[1]) - 1, len(session.folded_behind))
    verdict = session.standing_verdict()
    if verdict:
        meta["your decision"] = verdict
    if session.note:
        meta["note"] = session.note
    return meta


def group_line(near: int, folded: int) -> str:
    """The group line: how many near-duplicates, and how many of them wait behind this item."""
    text = f"{near} near-duplicate{'s' if near != 1 else ''} in this group (g decides all"
    if folded:
        text += f"; {folded} of them held back in this queue until you decide"
    return text + ")"


def progress_line(session: ReviewSession) -> str:
    """Done / total, items per hour, category, reviewer and queue, on one line."""
    rate = session.items_per_hour
    subtags = f" ({', '.join(session.subtags)})" if session.subtags else ""
    return " · ".join(
        [
            f"{session.done:,} / {session.total:,} done",
            f"{rate:,.0f} items/h" if rate is not None else "– items/h",
            f"category {session.category}{subtags}",
            f"reviewer {session.reviewer}",
            f"queue {session.queue.name}",
        ]
    )


def empty_queue_text(session: ReviewSession) -> str:
    """What to say when there is no item: nothing to review at all, or the queue is done."""
    if session.total == 0:
        return (
            f"Nothing to review for {session.reviewer}: no flagged samples wait in this "
            "queue.\n\nFlag samples with `reviewer flag DIR --flagger all`, or open a sampling "
            "plan with `reviewer review DIR --queue NAME`. Press q to leave."
        )
    left = session.total - session.done
    if left > 0:
        return (
            f"End of the queue: {session.done:,} of {session.total:,} items have your "
            f"decision; {left:,} you passed over still wait.\n\n"
            "Press ← to go back to them, q for the session summary, or z to undo your "
            "last decision."
        )
    return (
        f"Queue finished: {session.done:,} of {session.total:,} items have your decision.\n\n"
        "Press q for the session summary, or z to undo your last decision."
    )
