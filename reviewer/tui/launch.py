"""Getting a review session ready while Textual is still being imported.

Start to first item must stay under two seconds on a 1M-sample audit. Most of
that is two independent waits: importing the UI stack (Textual, textual-image,
Rich) and reading the queue from DuckDB, which runs in C++ without the GIL. So
:func:`prepare` — queue, session, the first page of rows and the first image —
runs in a thread while the caller imports the app, and the app starts with its
first item already loaded.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewer.images.blur import prefetch_step
from reviewer.review.groups import load_groups
from reviewer.review.queue import load_queue
from reviewer.review.rows import PAGE
from reviewer.review.session import ReviewSession
from reviewer.review.wellbeing import load_today
from reviewer.store.labels import utc_now
from reviewer.store.review import ReviewItem

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.images.preview_cache import PreviewCache


@dataclass
class Prepared:
    """A started session and what the first screen needs."""

    session: ReviewSession
    previews: PreviewCache | None
    page: list[str] = field(default_factory=list)
    items: dict[str, ReviewItem] = field(default_factory=dict)


def prepare(audit: Audit, reviewer: str, queue_name: str | None = None) -> Prepared:
    """Load the queue, start the session, read the first rows, start decoding the first image.

    Raises:
        ReviewerError: Unknown plan, or no share of it for this reviewer.
    """
    queue = load_queue(audit, reviewer, queue_name)
    today = load_today(audit.labels, reviewer, utc_now())
    session = ReviewSession(
        audit.labels, reviewer, queue, audit.settings, today=today, groups=load_groups(audit)
    )
    session.start()
    previews = None
    if audit.settings.review.image_mode != "text-only":
        from reviewer.images.preview_cache import PreviewCache

        previews = PreviewCache(audit)
    page = list(queue.ids[session.position : session.position + PAGE])
    items = audit.store.review.items(page, audit.settings) if page else {}
    step = prefetch_step(audit.settings)
    first = items.get(session.current_id or "")
    if previews is not None and step is not None and first is not None:
        previews.request(first.row, step)
    return Prepared(session, previews, page, items)


def prepare_in_background(
    audit: Audit, reviewer: str, queue_name: str | None = None
) -> Future[Prepared]:
    """:func:`prepare` in a thread; the caller imports the UI meanwhile."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-prepare")
    future = pool.submit(prepare, audit, reviewer, queue_name)
    pool.shutdown(wait=False)
    return future
