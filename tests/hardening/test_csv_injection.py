"""CSV exports neutralise cells a spreadsheet would run as formulas; other formats stay exact."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
from conftest import Cli, SampleRows, sample_rows

from reviewer.audit import Audit
from reviewer.store import Decision

HOSTILE = [
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "a plain caption = fine",
]


def _export(audit: Audit, cli: Cli, out: Path, *extra: str) -> None:
    ran = cli("export", audit.root, "--out", out, *extra)
    assert ran.code == 0, ran


def test_formula_cells_get_a_leading_quote_in_csv_only(
    audit: Audit, add_samples: Callable[[SampleRows], int], cli: Cli, tmp_path: Path
) -> None:
    rows = sample_rows(len(HOSTILE))
    for row, text in zip(rows, HOSTILE, strict=True):
        row["text"] = text
    add_samples(rows)
    audit.labels.record(Decision("s00000", "=evil()", "nsfw", "confirm"))

    _export(audit, cli, tmp_path / "x.csv", "--long")
    with (tmp_path / "x.csv").open(newline="", encoding="utf-8") as handle:
        long_rows = list(csv.DictReader(handle))
    assert [r["reviewer"] for r in long_rows] == ["'=evil()"]

    _export(audit, cli, tmp_path / "w.csv")
    with (tmp_path / "w.csv").open(newline="", encoding="utf-8") as handle:
        texts = {r["sample_id"]: r["text"] for r in csv.DictReader(handle)}
    for i, text in enumerate(HOSTILE):
        expected = text if text.startswith("a plain") else "'" + text
        assert texts[f"s{i:05d}"] == expected

    _export(audit, cli, tmp_path / "w.parquet")
    exact = dict(zip(*pq.read_table(tmp_path / "w.parquet", columns=["sample_id", "text"])
                     .to_pydict().values(), strict=True))
    _export(audit, cli, tmp_path / "w.jsonl")
    lines = (tmp_path / "w.jsonl").read_text(encoding="utf-8").splitlines()
    as_json = {d["sample_id"]: d["text"] for d in map(json.loads, lines)}
    for i, text in enumerate(HOSTILE):
        assert exact[f"s{i:05d}"] == text and as_json[f"s{i:05d}"] == text


def test_negative_numbers_stay_numbers_in_csv(
    audit: Audit, add_samples: Callable[[SampleRows], int], cli: Cli, tmp_path: Path
) -> None:
    add_samples(sample_rows(2, similarity=-0.25))
    _export(audit, cli, tmp_path / "n.csv")
    with (tmp_path / "n.csv").open(newline="", encoding="utf-8") as handle:
        assert {r["similarity"] for r in csv.DictReader(handle)} == {"-0.25"}
