"""Which items a reviewer sees, in what order: the default queue, plan queues, breathers.

Without ``--queue`` a reviewer gets the flagged samples they have not labelled yet,
in a seeded random order (never storage order, which clusters items by source
file and would bias what gets reviewed first when time runs out). With
``--queue NAME`` they get a sampling plan's queue (their share of it, when the
plan deals items to named reviewers). Either way, labelled and quarantined items
are left out, and each item carries a stable rank so a saved rank is a position
to resume from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.audit import Audit

DEFAULT_QUEUE = "flagged"
"""Name under which the default queue (flagged, not yet labelled) keeps its position."""
BREATHER_QUEUE = "breather"
"""Queue name stored with decisions on breather items, so statistics can leave them out."""


@dataclass
class Queue:
    """The items of one session in review order.

    Attributes:
        name: ``flagged`` for the default queue, else the plan's name.
        ids: Sample ids in order (breathers already mixed in).
        ranks: Non-decreasing resume keys aligned with ``ids``.
        already_done: Items of this queue labelled in earlier sessions (not in ``ids``).
        breathers: Ids in ``ids`` that are benign breather items.
    """

    name: str
    ids: Sequence[str]
    ranks: Sequence[int]
    already_done: int = 0
    breathers: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        """Items to judge in this queue, breathers not counted, earlier work included."""
        return self.already_done + len(self.ids) - len(self.breathers)


def mix_breathers(queue: Queue, breathers: list[str], every: int) -> Queue:
    """A queue with one breather item after every ``every`` items (as many as there are)."""
    if every <= 0 or not breathers:
        return queue
    ids: list[str] = []
    ranks: list[int] = []
    pending = iter(breathers)
    used: set[str] = set()
    for i, (sid, rank) in enumerate(zip(queue.ids, queue.ranks, strict=True), start=1):
        ids.append(sid)
        ranks.append(rank)
        if i % every == 0:
            extra = next(pending, None)
            if extra is not None:
                ids.append(extra)
                ranks.append(rank)
                used.add(extra)
    return Queue(queue.name, ids, ranks, queue.already_done, frozenset(used))


def load_queue(audit: Audit, reviewer: str, plan: str | None = None) -> Queue:
    """The reviewer's queue: a plan's (``plan``) or the default flagged queue, with breathers.

    Raises:
        ReviewerError: The plan does not exist, or has no share for this reviewer.
    """
    settings = audit.settings
    labelled = audit.labels.labelled_ids(reviewer)
    if plan is None:
        rows = audit.store.review.queue(settings, labelled)
        queue = Queue(DEFAULT_QUEUE, rows.ids, rows.ranks, rows.already_done)
    else:
        queue = _plan_queue(audit, reviewer, plan, labelled)
    every = settings.review.breather_every
    if every > 0 and queue.ids:
        wanted = len(queue.ids) // every + 1
        exclude = labelled if plan is None else labelled | set(queue.ids)
        breathers = audit.store.review.breather_ids(settings, wanted, exclude)
        queue = mix_breathers(queue, breathers, every)
    return queue


def _plan_queue(audit: Audit, reviewer: str, plan: str, labelled: set[str]) -> Queue:
    """The plan's share for ``reviewer`` (or a probe's queue); their own escalations count
    as done (see :meth:`~reviewer.store.review.ReviewQueries.queue`)."""
    if audit.store.probes.probe(plan) is not None:  # a probe's queue, in similarity order
        all_ids = audit.store.probes.queue_ids(plan, keep=labelled)
    else:
        all_ids = audit.store.plans.queue_sample_ids(plan, reviewer, keep=labelled)
    quarantined = audit.labels.quarantined_ids()
    waiting = [
        (rank, sid)
        for rank, sid in enumerate(all_ids)
        if sid not in labelled and sid not in quarantined
    ]
    return Queue(
        plan,
        [sid for _, sid in waiting],
        [rank for rank, _ in waiting],
        already_done=sum(1 for sid in all_ids if sid in labelled),
    )


def check_reviewer_name(name: str) -> str:
    """A reviewer name that is safe to store and show: non-empty, printable, short."""
    cleaned = name.strip()
    if not cleaned:
        raise ReviewerError("reviewer name is empty", "pass --reviewer NAME")
    if len(cleaned) > 64 or not cleaned.isprintable():
        raise ReviewerError(
            f"reviewer name {cleaned[:20]!r}… is not usable",
            "use a short printable name, e.g. --reviewer ana",
        )
    return cleaned
