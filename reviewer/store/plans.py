"""SQL on sampling plans and review queues (issue 4)."""

from __future__ import annotations

from reviewer.store.core import StoreBase


class PlanQueries(StoreBase):
    """Methods on ``plans``, ``plan_strata`` and ``plan_items``."""
