"""Which sample rows the review screen holds, and which page to read next.

A 1M-sample audit cannot be loaded into the app (the 400 MB budget, the 2 s
start), and the DuckDB file must not stay open, so rows are read in small pages
around the reviewer's position, in a worker thread, and kept in a bounded LRU.
This class decides *what* to read; the screen's worker does the reading.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from reviewer.store.review import ReviewItem

PAGE = 48
"""Rows read in one go (one short DuckDB read, ~10-30 ms on a 1M-sample audit)."""
MARGIN = 16
"""Read the next page when fewer than this many rows ahead are loaded."""
BEHIND = 8
"""Rows behind the position included in a page, for the previous-item key."""
KEEP = 2_000
"""Rows kept in memory at most."""


class RowCache:
    """Loaded review items by sample id, with the ids requested but not yet arrived."""

    def __init__(self, keep: int = KEEP) -> None:
        self._items: OrderedDict[str, ReviewItem] = OrderedDict()
        self._requested: set[str] = set()
        self._keep = keep

    def get(self, sample_id: str) -> ReviewItem | None:
        """The item if loaded (and mark it recently used)."""
        item = self._items.get(sample_id)
        if item is not None:
            self._items.move_to_end(sample_id)
        return item

    def wanted(self, ids: Sequence[str], position: int) -> list[str]:
        """The page to read now around ``position``, or ``[]`` when enough is loaded or asked."""
        ahead = ids[position : position + MARGIN]
        if all(sid in self._items or sid in self._requested for sid in ahead):
            return []
        window = ids[max(0, position - BEHIND) : position + PAGE]
        page = [sid for sid in window if sid not in self._items and sid not in self._requested]
        self._requested.update(page)
        return page

    def add(self, requested: list[str], items: dict[str, ReviewItem]) -> None:
        """Store a page; requested ids the store did not return are kept as 'not found'."""
        for sid in requested:
            self._requested.discard(sid)
            self._items[sid] = items.get(sid) or ReviewItem(
                sid, {"sample_id": sid}, ["sample not found in the audit"]
            )
            self._items.move_to_end(sid)
        while len(self._items) > self._keep:
            self._items.popitem(last=False)

    def failed(self, requested: list[str]) -> None:
        """A page could not be read: ask again on the next move."""
        self._requested.difference_update(requested)

    def loaded_after(self, ids: Sequence[str], position: int, count: int) -> list[ReviewItem]:
        """Up to ``count`` loaded items right after ``position`` (for image prefetch)."""
        out = []
        for sid in ids[position + 1 : position + 1 + count]:
            item = self._items.get(sid)
            if item is not None:
                out.append(item)
        return out

    def __len__(self) -> int:
        return len(self._items)
