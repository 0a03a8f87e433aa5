"""The direct path (DuckDB reads plain parquet itself) stores what the staged path stores."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reviewer.audit import Audit
from reviewer.ingest import direct, ingest
from reviewer.ingest.normalize import BLANK_CAPTION, LONG_CAPTION
from reviewer.ingest.run import IngestReport
from reviewer.store.direct_ingest import WHITESPACE, DirectPublisher
from reviewer.store.ingested import FileStage
from tests.ingest.conftest import laion400m_table, rows_of, write_parquet

ALL = "source_file, source_row"


def _both(
    tmp_path: Path, sources: list[Path], monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> tuple[IngestReport, IngestReport, list[dict[str, Any]], list[dict[str, Any]]]:
    """Ingest ``sources`` into a fresh audit by each path: reports and rows of both."""
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(direct, "ENABLED", enabled)
        audit = Audit.init(tmp_path / f"audit-{enabled}")
        try:
            report = ingest(audit.store, [str(s) for s in sources], **kw)
            files = audit.store.query(
                "SELECT path, rows, warnings FROM ingested_files ORDER BY path"
            ).to_pylist()
            out.append((report, _comparable(rows_of(audit, ALL)), files))
        finally:
            audit.close()
    (direct_report, direct_rows, direct_files), (staged_report, staged_rows, staged_files) = out
    assert direct_files == staged_files
    return direct_report, staged_report, direct_rows, staged_rows


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN spelled out (NaN equals nothing, not even itself)."""
    return [
        {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in rows
    ]


def _same(direct_report: IngestReport, staged_report: IngestReport) -> None:
    for d, s in zip(direct_report.files, staged_report.files, strict=True):
        assert (d.inserted, d.rows_read, d.skipped) == (s.inserted, s.rows_read, s.skipped)
        assert d.warnings.counts == s.warnings.counts
        assert d.warnings.examples == s.warnings.examples


def _odd_laion(n: int, start: int = 0) -> pa.Table:
    """LAION-400M-shaped with every oddity SQL must treat as Python does."""
    table = laion400m_table(n, start)
    text = table.column("TEXT").to_pylist()
    text[1], text[3], text[4], text[6] = None, "", " \u3000\t\u00a0", "x" * 70_000
    text[7] = "\u00e9t\u00e9 \U0001f418 nul\x00 rtl \u05e9\u05dc\u05d5\u05dd"
    width = table.column("WIDTH").to_pylist()
    width[2], width[5], width[8] = float("nan"), None, 12.9
    height = table.column("HEIGHT").to_pylist()
    height[3], height[10] = float("inf"), -3.7
    ids = table.column("SAMPLE_ID").to_pylist()
    ids[4], ids[9] = ids[0], ids[0]  # repeated within the file
    return (
        table.set_column(2, "TEXT", pa.array(text, pa.string()))
        .set_column(4, "WIDTH", pa.array(width, pa.float64()))
        .set_column(3, "HEIGHT", pa.array(height, pa.float64()))
        .set_column(0, "SAMPLE_ID", pa.array(ids, pa.int64()))
    )


def test_laion400m_direct_and_staged_store_the_same_rows_and_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write_parquet(tmp_path / "src" / "part-0.parquet", _odd_laion(12))
    b = write_parquet(tmp_path / "src" / "part-1.parquet", _odd_laion(12, start=8))  # 8..11 again
    d, s, d_rows, s_rows = _both(tmp_path, [a, b], monkeypatch)
    assert [f.route for f in d.files] == ["direct", "direct"]
    assert [f.route for f in s.files] == ["staged", "staged"]
    assert d_rows == s_rows
    _same(d, s)
    first = d.files[0].warnings
    assert first.counts[BLANK_CAPTION] == 3 and first.examples[BLANK_CAPTION] == "source_row 1"
    assert first.counts[LONG_CAPTION] == 1 and first.examples[LONG_CAPTION] == "source_row 6"
    assert d.files[0].inserted == 10  # two repeats of id 0 skipped
    assert d.files[1].warnings.counts["sample_id already in the audit (skipped)"] == 5
    by_row = {r["source_row"]: r for r in d_rows if r["source_file"] == str(a.resolve())}
    assert by_row[8]["width"] == 12 and by_row[2]["width"] is None and by_row[10]["height"] == -3
    assert by_row[7]["text"].endswith("\u05e9\u05dc\u05d5\u05dd") and "\x00" in by_row[7]["text"]


def test_laion2b_and_plain_layouts_with_extras_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 6
    laion2b = pa.table(
        {
            "url": [f"https://x/{i}" for i in range(n)],
            "caption": ["a", "b", None, "d", "e", "f"],
            "punsafe": pa.array([0.1, None, 0.3, 0.4, 0.5, 0.6], pa.float32()),
            "pwatermark": pa.array([1, 2, 3, 4, 5, 6], pa.int32()),
            "hash": pa.array([11, -12, 13, 14, 15, 16], pa.int64()),
            "key": ["000", "001", "002", "003", "004", "005"],
            "WIDTH": pa.array([5, 6, 7, 8, 9, 10], pa.uint16()),
            "flag": [True, False, None, True, True, False],
            "score": pa.array([1.5, None, float("nan"), 2.0, 3.0, 4.0]),
            "lang": pa.array(["en", "de", "en", "fr", None, "en"]).dictionary_encode(),
        }
    )
    plain = pa.table(
        {
            "SampleId": ["k1", "", None, "k1", "k4", "k5"],
            "TEXT": ["one", "two", "three", "four", "five", "six"],
            "NSFW": ["UNLIKELY", "nsfw?", "", None, "NSFW", "UNSURE"],
            "n": pa.array([1, 2, 3, 4, 5, 2**40], pa.uint64()),
        }
    )
    sparse = pa.table(  # ids too far apart for a bit per value: hashed
        {"SAMPLE_ID": pa.array([7, 10**15, None, 7, -(10**15)], pa.int64()), "TEXT": list("abcde")}
    )
    a = write_parquet(tmp_path / "laion2B-en" / "lang=xx" / "part-00000.parquet", laion2b)
    b = write_parquet(tmp_path / "other" / "plain.parquet", plain)
    c = write_parquet(tmp_path / "other" / "sparse.parquet", sparse)
    d, s, d_rows, s_rows = _both(tmp_path, [a, b, c], monkeypatch)
    assert [f.route for f in d.files] == ["direct", "direct", "direct"]
    assert d_rows == s_rows
    _same(d, s)
    repeated = "duplicate sample_id in the file (later rows skipped)"
    assert d.files[1].warnings.counts == {repeated: 1}
    assert d.files[2].warnings.counts == {repeated: 1} and d.files[2].inserted == 4


def test_invalid_utf8_falls_back_to_the_staged_path(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = pa.array([b"fine", b"caf\xe9 au lait", b"\xff\xfe"], pa.binary())
    table = pa.table({"SAMPLE_ID": [1, 2, 3], "TEXT": raw.view(pa.string())})
    path = write_parquet(tmp_path / "bad.parquet", table)
    seen: list[int] = []
    report = ingest(audit.store, [str(path)], progress=lambda done, _: seen.append(done))
    assert report.files[0].route == "staged"
    assert [r["text"] for r in rows_of(audit)] == ["fine", "caf\ufffd au lait", "\ufffd\ufffd"]
    assert report.files[0].warnings.counts == {
        "invalid UTF-8 in TEXT (bytes replaced by U+FFFD)": 2
    }
    assert seen[-1] == 3  # what the rolled-back attempt reported was taken back
    assert audit.store.scalar("SELECT count(*) FROM ingested_files") == 1


def test_duplicates_across_files_on_the_direct_path(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Summaries prune the audit-wide id check only when no file can hold the ids."""
    checked: list[str] = []
    existing = DirectPublisher.existing

    def spy(self: DirectPublisher) -> tuple[int, str | None]:
        checked.append(Path(self.spec.path).name)
        return existing(self)

    monkeypatch.setattr(DirectPublisher, "existing", spy)
    a = write_parquet(tmp_path / "a.parquet", laion400m_table(10))  # ids 0..9
    b = write_parquet(tmp_path / "b.parquet", laion400m_table(10, start=100))  # disjoint
    csv = tmp_path / "c.csv"
    csv.write_text("sample_id,text\n150,from csv\nzz,other\n")  # staged: no id summary
    c = write_parquet(tmp_path / "c.parquet", laion400m_table(10, start=145))  # 150 is taken
    d = write_parquet(tmp_path / "d.parquet", laion400m_table(10, start=5))  # 5..9 taken
    report = ingest(audit.store, [str(p) for p in (a, b, csv, c, d)])
    assert [f.route for f in report.files] == ["direct", "direct", "staged", "direct", "direct"]
    assert [f.inserted for f in report.files] == [10, 10, 2, 9, 5]
    skipped = "sample_id already in the audit (skipped)"
    assert report.files[3].warnings.counts == {skipped: 1}
    assert report.files[3].warnings.examples[skipped] == "sample_id '150'"
    assert report.files[4].warnings.examples[skipped] == "sample_id '5'"
    ids = audit.store.query("SELECT sample_id FROM samples").column(0).to_pylist()
    assert len(ids) == len(set(ids)) == 36
    assert checked == ["c.parquet", "d.parquet"]  # a and b could not meet any id: not read
    summaries = audit.store.query(
        "SELECT id_prefix, id_lo, id_hi FROM ingested_files ORDER BY path"
    ).to_pylist()
    assert summaries[0] == {"id_prefix": "", "id_lo": 0, "id_hi": 9}
    assert {"id_prefix": None, "id_lo": None, "id_hi": None} in summaries  # the CSV


def test_generated_ids_of_two_files_with_one_stem_collide_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same dataset, same file stem, other folder: the generated ids are the same ids."""
    table = pa.table({"url": ["u1", "u2", "u3"], "caption": ["a", "b", "c"], "punsafe": [0.1] * 3})
    a = write_parquet(tmp_path / "x" / "part-0.parquet", table)
    b = write_parquet(tmp_path / "y" / "part-0.parquet", table.slice(0, 2))
    d, s, d_rows, s_rows = _both(tmp_path, [a, b], monkeypatch, dataset="laion2b-en")
    assert d_rows == s_rows and [f.inserted for f in d.files] == [3, 0]
    _same(d, s)


def test_killed_while_publishing_directly_leaves_nothing_of_the_file(
    audit: Audit, tmp_path: Path
) -> None:
    a = write_parquet(tmp_path / "a.parquet", laion400m_table(10))
    b = write_parquet(tmp_path / "b.parquet", laion400m_table(5_000, start=100))
    ingest(audit.store, [str(a)])
    audit.close()
    script = textwrap.dedent(
        """
        import os, signal, sys
        from reviewer.audit import Audit
        from reviewer.ingest import ingest
        from reviewer.store.ingested import IngestQueries

        def die(*args, **kwargs):  # rows inserted, the file not yet recorded nor committed
            os.kill(os.getpid(), signal.SIGKILL)

        IngestQueries.record_ingested = die
        ingest(Audit.open(sys.argv[1]).store, [sys.argv[2]])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(audit.root), str(b)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    again = Audit.open(audit.root)
    try:
        assert again.store.samples.count() == 10
        report = ingest(again.store, [str(b)])
        assert report.files[0].route == "direct" and report.inserted == 5_000
    finally:
        again.close()


def test_whitespace_is_what_arrow_trims() -> None:
    """The blank-caption check in SQL trims the same characters Arrow does."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    blank = pc.equal(pc.utf8_trim_whitespace(pa.array(chars)), "").to_pylist()
    assert {c for c, b in zip(chars, blank, strict=True) if b} == set(WHITESPACE)


def test_staged_files_with_generated_ids_skip_the_audit_wide_check_exactly(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """img2dataset-style metadata (thousands of small staged shards, no ids) must not read
    every id of the audit per shard; a shard that can collide still is checked."""
    checked: list[int] = []
    existing = FileStage._existing

    def spy(conn: Any) -> tuple[int, str | None]:
        checked.append(1)
        return existing(conn)

    monkeypatch.setattr(FileStage, "_existing", staticmethod(spy))
    for name in ("x/00000.csv", "x/00001.csv", "y/00000.csv"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"url,caption\nhttp://a,{name}\nhttp://b,two\nhttp://c,3\n")
    x0, x1, y0 = (str(tmp_path / n) for n in ("x/00000.csv", "x/00001.csv", "y/00000.csv"))
    first = ingest(audit.store, [x0, x1], dataset="shards")
    assert [f.route for f in first.files] == ["staged", "staged"]
    assert first.inserted == 6 and checked == []  # disjoint summaries: no id read
    again = ingest(audit.store, [y0], dataset="shards")  # same stem, same dataset: same ids
    assert checked == [1] and again.inserted == 0
    assert again.files[0].warnings.examples == {
        "sample_id already in the audit (skipped)": "sample_id 'shards:00000:0'"
    }
