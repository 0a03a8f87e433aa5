"""Captions survive ingest byte-for-byte, whatever they contain."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.audit import Audit
from reviewer.ingest import ingest
from tests.ingest.conftest import rows_of, write_parquet

WEIRD = [
    "emoji 🐘👩🏽‍🚀🏳️‍🌈 and flags 🇬🇧",
    "RTL: مرحبا بالعالم and עברית mixed with ltr",
    "\u202eoverride\u202c and \u200bzero\u200dwidth\ufeffbom",
    "combining e\u0301 vs é, Hangul 한국어, CJK 中文, Devanagari हिन्दी",
    "control \x01\x02\x07 tab\there newline\nCR\r\nend \x7f DEL",
    "nul \x00 inside",
    "  leading and trailing spaces  ",
    "quotes \" ' ` and backslash \\ and %s {} $1",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝟘𝟙 and astral 𐍈",
    "",
]


def test_weird_captions_round_trip_exactly_from_parquet_and_csv(
    audit: Audit, tmp_path: Path
) -> None:
    table = pa.table({"URL": [f"u{i}" for i in range(len(WEIRD))], "TEXT": WEIRD})
    ingest(audit.store, [str(write_parquet(tmp_path / "w.parquet", table))])
    stored = [r["text"] for r in rows_of(audit)]
    assert [s.encode("utf-8") for s in stored] == [w.encode("utf-8") for w in WEIRD]


def test_csv_captions_round_trip_with_quoting(audit: Audit, tmp_path: Path) -> None:
    import csv

    captions = [w for w in WEIRD if "\x00" not in w and "\r" not in w and w]
    with (tmp_path / "w.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["url", "text"])
        out.writerows([f"u{i}", c] for i, c in enumerate(captions))
    ingest(audit.store, [str(tmp_path / "w.csv")])
    assert [r["text"] for r in rows_of(audit)] == captions


_counter = itertools.count()


@pytest.mark.slow  # one ingest per generated example
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=20))
def test_any_unicode_text_round_trips(audit: Audit, tmp_path: Path, texts: list[str]) -> None:
    n = next(_counter)
    ids = [f"h{n}-{i}" for i in range(len(texts))]
    table = pa.table({"SAMPLE_ID": ids, "TEXT": texts})
    ingest(audit.store, [str(write_parquet(tmp_path / f"h{n}.parquet", table))])
    got = audit.store.samples.get(ids)
    assert [got[i]["text"] for i in ids] == texts


def test_parquet_written_by_another_tool_keeps_captions(audit: Audit, tmp_path: Path) -> None:
    """DuckDB's own parquet writer, dictionary and large_string columns, as other tools write."""
    import duckdb

    table = pa.table(
        {
            "SAMPLE_ID": pa.array(range(len(WEIRD)), pa.int64()),
            "TEXT": pa.array(WEIRD, pa.large_string()),
            "NSFW": pa.array(["UNLIKELY"] * len(WEIRD)).dictionary_encode(),
        }
    )
    path = tmp_path / "duck.parquet"
    con = duckdb.connect()
    con.register("t", table)
    con.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    ingest(audit.store, [str(path)])
    rows = rows_of(audit)
    assert [r["text"].encode() for r in rows] == [w.encode() for w in WEIRD]
    assert {r["nsfw"] for r in rows} == {"UNLIKELY"}
