"""Bad input: a clear message naming the file (and row), nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.errors import ReviewerError, SchemaError
from reviewer.ingest import ingest, readers
from reviewer.ingest.normalize import LONG_CAPTION_BYTES
from tests.ingest.conftest import laion400m_table, rows_of, write_parquet


def test_missing_file_fails_before_anything_is_ingested(audit: Audit, tmp_path: Path) -> None:
    good = write_parquet(tmp_path / "good.parquet", laion400m_table(3))
    with pytest.raises(ReviewerError, match=r"missing\.parquet: no such file"):
        ingest(audit.store, [str(good), str(tmp_path / "missing.parquet")])
    assert audit.store.samples.count() == 0


def test_glob_matching_nothing_is_an_error(audit: Audit, tmp_path: Path) -> None:
    with pytest.raises(ReviewerError, match="matches no file"):
        ingest(audit.store, [str(tmp_path / "*.parquet")])


def test_not_parquet(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("URL,TEXT\nx,y\n")
    with pytest.raises(ReviewerError, match=r"fake\.parquet: not a parquet file") as err:
        ingest(audit.store, [str(path)])
    assert "csv" in err.value.hint


def test_parquet_without_caption_column(audit: Audit, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "nocap.parquet", pa.table({"URL": ["x"], "WIDTH": [1]}))
    with pytest.raises(SchemaError, match=r"nocap\.parquet: no caption column.*URL, WIDTH"):
        ingest(audit.store, [str(path)])
    assert audit.store.scalar("SELECT count(*) FROM ingested_files") == 0


def test_null_and_empty_captions_are_kept_and_counted(audit: Audit, tmp_path: Path) -> None:
    table = pa.table({"URL": ["a", "b", "c", "d"], "TEXT": ["ok", None, "", "  "]})
    report = ingest(audit.store, [str(write_parquet(tmp_path / "e.parquet", table))])
    warnings = report.files[0].warnings
    assert warnings.counts == {"NULL or empty caption (row kept)": 3}
    assert warnings.examples["NULL or empty caption (row kept)"] == "source_row 1"
    assert [r["text"] for r in rows_of(audit)] == ["ok", None, "", "  "]


def test_invalid_utf8_is_replaced_visibly_and_counted(audit: Audit, tmp_path: Path) -> None:
    raw = pa.array([b"fine", b"caf\xe9 au lait", b"\xff\xfe"], pa.binary())
    table = pa.table({"URL": ["a", "b", "c"], "TEXT": raw.view(pa.string())})
    report = ingest(audit.store, [str(write_parquet(tmp_path / "bad.parquet", table))])
    assert [r["text"] for r in rows_of(audit)] == ["fine", "caf\ufffd au lait", "\ufffd\ufffd"]
    kind = "invalid UTF-8 in TEXT (bytes replaced by U+FFFD)"
    assert report.files[0].warnings.counts == {kind: 2}
    assert report.files[0].warnings.examples[kind] == "source_row 1"


def test_invalid_utf8_in_csv(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"url,text\nhttp://a,ok\nhttp://b,bad \xc3\x28 byte\n")
    report = ingest(audit.store, [str(path)])
    assert [r["text"] for r in rows_of(audit)] == ["ok", "bad \ufffd( byte"]
    assert report.warnings == 1


def test_one_megabyte_caption_is_kept_byte_for_byte(audit: Audit, tmp_path: Path) -> None:
    huge = ("ünïcödé 🐘 " * 80_000)[: 1 << 20]
    table = pa.table({"URL": ["a", "b"], "TEXT": ["short", huge]})
    report = ingest(audit.store, [str(write_parquet(tmp_path / "huge.parquet", table))])
    stored = rows_of(audit)[1]["text"]
    assert stored.encode() == huge.encode() and len(huge.encode()) > LONG_CAPTION_BYTES
    assert report.files[0].warnings.examples == {
        "caption over 64 KiB (kept byte-for-byte)": "source_row 1"
    }


def test_duplicate_sample_ids_within_file_and_against_the_audit(
    audit: Audit, tmp_path: Path
) -> None:
    first = laion400m_table(3)  # ids 0, 1, 2
    ingest(audit.store, [str(write_parquet(tmp_path / "1.parquet", first))])
    second = pa.table(
        {"SAMPLE_ID": [5, 5, 2, 6, 5], "TEXT": ["five", "again", "two", "six", "thrice"]}
    )
    report = ingest(audit.store, [str(write_parquet(tmp_path / "2.parquet", second))])
    warnings = report.files[0].warnings.counts
    assert warnings == {
        "duplicate sample_id in the file (later rows skipped)": 2,
        "sample_id already in the audit (skipped)": 1,
    }
    assert report.files[0].inserted == 2
    rows = {r["sample_id"]: r["text"] for r in rows_of(audit)}
    assert rows == {"0": "caption 0", "1": "caption 1", "2": "caption 2", "5": "five", "6": "six"}
    assert (
        "'5'"
        in report.files[0].warnings.examples["duplicate sample_id in the file (later rows skipped)"]
    )


def test_truncated_parquet_leaves_earlier_files_whole(audit: Audit, tmp_path: Path) -> None:
    good = write_parquet(tmp_path / "a.parquet", laion400m_table(10))
    full = write_parquet(tmp_path / "b_full.parquet", laion400m_table(10, start=100))
    truncated = tmp_path / "b.parquet"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ReviewerError, match=r"b\.parquet: truncated parquet") as err:
        ingest(audit.store, [str(good), str(truncated)])
    assert "fetch the file again" in err.value.hint
    assert audit.store.samples.count() == 10
    assert audit.store.scalar("SELECT count(*) FROM ingested_files") == 1


def test_corruption_mid_file_rolls_the_whole_file_back(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BATCH_ROWS", 1_000)
    good = write_parquet(tmp_path / "a.parquet", laion400m_table(10))
    n = 20_000
    table = pa.table({"TEXT": [f"row {i:07d} " + "x" * (i % 13) for i in range(n)]})
    bad = tmp_path / "b.parquet"
    pq.write_table(table, bad, row_group_size=n // 4, compression="snappy")
    start = pq.ParquetFile(bad).metadata.row_group(3).column(0).data_page_offset
    data = bytearray(bad.read_bytes())
    data[start + 20 : start + 400] = b"\x00" * 380  # the last row group's data page
    bad.write_bytes(bytes(data))
    with pytest.raises(ReviewerError, match=r"b\.parquet: unreadable after row 15,000") as err:
        ingest(audit.store, [str(good), str(bad)])  # 15 batches were staged before the failure
    assert "nothing of it was ingested" in err.value.hint
    assert audit.store.samples.count() == 10
    assert {r["source_file"] for r in rows_of(audit)} == {str(good.resolve())}
    assert list((audit.paths.cache / "ingest_stage").iterdir()) == []  # staged parts deleted
    # The failed file can be ingested once repaired: it was not recorded.
    pq.write_table(table, bad)
    assert ingest(audit.store, [str(bad)]).inserted == n


def test_image_path_escaping_its_root_is_refused(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "paths.csv"
    path.write_text(
        "url,text,image_path\nhttp://a,in,imgs/a.png\nhttp://b,out,../../etc/passwd\n"
        "http://c,abs,/etc/passwd\n"
    )
    report = ingest(audit.store, [str(path)])
    refs = [r["image_ref"] for r in rows_of(audit)]
    assert refs[0] is not None and refs[0].endswith(":imgs/a.png")
    assert refs[1:] == [None, None]
    (kind,) = report.files[0].warnings.counts
    assert kind.startswith("image path outside its root")
    assert report.files[0].warnings.counts[kind] == 2
    assert report.files[0].warnings.examples[kind] == "source_row 1"


def test_parts_left_by_a_killed_ingest_are_deleted(audit: Audit, tmp_path: Path) -> None:
    base = audit.paths.cache / "ingest_stage"
    dead = base / "999999999-abc"  # no such pid
    dead.mkdir(parents=True)
    write_parquet(dead / "part-00000.parquet", pa.table({"junk": ["x"]}))
    (base / "stray.parquet").write_bytes(b"x")
    path = write_parquet(tmp_path / "a.parquet", laion400m_table(3))
    assert ingest(audit.store, [str(path)]).inserted == 3
    assert "junk" not in audit.store.samples.columns()
    assert list(base.iterdir()) == []


def test_an_extra_column_clashing_in_type_is_a_clear_error(audit: Audit, tmp_path: Path) -> None:
    first = write_parquet(tmp_path / "a.parquet", pa.table({"TEXT": ["a"], "score": [1.5]}))
    second = write_parquet(tmp_path / "b.parquet", pa.table({"TEXT": ["b"], "score": ["high"]}))
    with pytest.raises(ReviewerError, match=r"b\.parquet: could not be added"):
        ingest(audit.store, [str(first), str(second)])
    assert [r["text"] for r in rows_of(audit)] == ["a"]


def test_same_size_head_and_tail_but_different_middle_is_ingested(
    audit: Audit, tmp_path: Path
) -> None:
    """Only the middle rows differ: a head/tail fingerprint called this 'already ingested'."""
    n = 60_000  # captions fill well over 2 x 64 KiB, so the middle is outside head and tail
    texts = [f"caption {i:06d} " + "x" * 20 for i in range(n)]
    first = tmp_path / "a.csv"
    first.write_text("url,text\n" + "".join(f"http://u/{i},{t}\n" for i, t in enumerate(texts)))
    middle = n // 2
    texts[middle] = texts[middle].replace("caption", "CAPTION")
    second = tmp_path / "b.csv"
    second.write_text("url,text\n" + "".join(f"http://u/{i},{t}\n" for i, t in enumerate(texts)))
    data_a, data_b = first.read_bytes(), second.read_bytes()
    assert len(data_a) == len(data_b) and data_a[:65_536] == data_b[:65_536]
    assert data_a[-65_536:] == data_b[-65_536:] and data_a != data_b
    report = ingest(audit.store, [str(first), str(second)])
    assert [f.skipped for f in report.files] == [None, None]
    assert report.inserted == 2 * n
    # the same file again is skipped, by path/size/mtime, and by content from another path
    assert ingest(audit.store, [str(first)]).files[0].skipped
    copy = tmp_path / "copy.csv"
    copy.write_bytes(data_b)
    assert "already ingested (as" in str(ingest(audit.store, [str(copy)]).files[0].skipped)


def test_csv_with_an_unterminated_quote_names_the_line(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('url,text\nhttp://a,fine\nhttp://b,"never closed\nhttp://c,next\nhttp://d,x\n')
    with pytest.raises(
        ReviewerError, match=r"broken\.csv: bad CSV in the record starting on line 3"
    ):
        ingest(audit.store, [str(path)])
    assert audit.store.samples.count() == 0


def test_csv_with_a_ragged_row_names_the_line(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('url,text\nhttp://a,"multi\nline"\nhttp://b,two,three\n')
    with pytest.raises(ReviewerError, match=r"line 4 has 3 field\(s\), the header has 2"):
        ingest(audit.store, [str(path)])
    assert audit.store.samples.count() == 0
