"""SQL that gathers (item, rater, value) triples and strata for the statistics (issue 4)."""

from __future__ import annotations

from reviewer.store.core import StoreBase


class StatsQueries(StoreBase):
    """Methods feeding reviewer.stats."""
