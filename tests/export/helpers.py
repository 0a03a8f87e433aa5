"""Reading exports back, whatever their format, for comparison with hand-written rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from reviewer.audit import Audit
from reviewer.export import ExportOptions, ExportResult, export


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a parquet, CSV or JSON-lines export as dicts (CSV values stay strings)."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows keyed by sample_id."""
    return {r["sample_id"]: r for r in rows}


def run(audit: Audit, tmp_path: Path, name: str = "out.parquet", **options: Any) -> ExportResult:
    """Export with the given options to ``tmp_path / name``."""
    return export(audit, ExportOptions(out=tmp_path / name, **options))


def ids(audit: Audit, tmp_path: Path, **options: Any) -> list[str]:
    """Sorted sample ids of a parquet export with the given options."""
    result = run(audit, tmp_path, **options)
    return sorted(r["sample_id"] for r in read_rows(result.path))
