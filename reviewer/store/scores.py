"""SQL on flagger output: score files (parquet, written by flag runs) and derived flags.

Owned by the flaggers work (issue 3). Flag jobs never hold the DuckDB lock while
scoring: they write parquet parts under ``scores/`` and these queries read them.
"""

from __future__ import annotations

from reviewer.store.core import StoreBase


class ScoreQueries(StoreBase):
    """Methods on scores and flags."""
