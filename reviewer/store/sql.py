"""SQL text helpers: the one place that quotes a value or a name into SQL.

Most queries pass values as ``?`` parameters. Some text cannot: file lists of
``read_parquet([...])``, ``COPY ... TO 'path'``, view bodies and flag rules that
DuckDB stores as text. Those go through :func:`lit` and :func:`ident` here, so
quoting is written (and fixed) once.
"""

from __future__ import annotations


def lit(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def num(value: float) -> str:
    """A float as SQL text that reads back exactly (``repr``)."""
    return repr(float(value))
