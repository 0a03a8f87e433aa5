"""SQL behind ``reviewer export`` (issue 5)."""

from __future__ import annotations

from reviewer.store.core import StoreBase


class ExportQueries(StoreBase):
    """Methods that stream samples, flags and labels out through DuckDB ``COPY``."""
