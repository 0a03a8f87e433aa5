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


def copy_to_parquet(select: str, path: str) -> str:
    """``COPY`` of ``select`` into one parquet file (scratch read back by :func:`parquet_view`)."""
    return f"COPY ({select}) TO {lit(path)} (FORMAT parquet)"


def parquet_view(name: str, path: str) -> str:
    """A temp view over one parquet file: scratch that holds nothing in DuckDB's memory."""
    return f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet({lit(path)})"
