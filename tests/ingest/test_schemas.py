"""Every source layout ingest reads maps onto the canonical columns."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.images.resolve import load_image
from reviewer.ingest import direct, ingest, readers
from tests.ingest.conftest import img2dataset_shard, laion400m_table, rows_of, write_parquet


def test_laion400m_parquet_maps_columns_and_keeps_ids_as_strings(
    audit: Audit, tmp_path: Path
) -> None:
    table = laion400m_table(5).append_column("EXTRA Col", pa.array([1, 2, 3, 4, 5]))
    table = table.set_column(6, "NSFW", pa.array(["UNLIKELY", "nsfw?", "", None, "NSFW"]))
    table = table.set_column(4, "WIDTH", pa.array([640.0, float("nan"), 3.0, None, 5.0]))
    path = write_parquet(tmp_path / "part-00000.parquet", table)
    report = ingest(audit.store, [str(path)])
    assert report.files[0].flavour == "laion400m"
    rows = rows_of(audit)
    assert [r["sample_id"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert [r["nsfw"] for r in rows] == ["UNLIKELY", "nsfw?", "", None, "NSFW"]
    assert [r["width"] for r in rows] == [640, None, 3, None, 5]
    assert rows[2]["url"] == "https://example.org/2.jpg"
    assert rows[2]["text"] == "caption 2"
    assert rows[2]["extra_col"] == 3
    assert {r["dataset"] for r in rows} == {"laion400m"}
    assert [r["source_row"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["source_file"] == str(path.resolve())


def test_laion2b_parquet_gets_stable_ids_and_keeps_hash_and_key(
    audit: Audit, tmp_path: Path
) -> None:
    table = pa.table(
        {
            "URL": ["u0", "u1"],
            "TEXT": ["a", "b"],
            "WIDTH": pa.array([10, 20], pa.int32()),
            "HEIGHT": pa.array([30, 40], pa.int32()),
            "similarity": [0.3, 0.4],
            "hash": pa.array([-123, 456], pa.int64()),
            "punsafe": pa.array([0.1, 0.95], pa.float32()),
            "pwatermark": [0.5, None],
            "key": ["000000000", "000000001"],
        }
    )
    path = write_parquet(tmp_path / "laion2B-en" / "part-00001-abc.parquet", table)
    report = ingest(audit.store, [str(path)])
    assert report.files[0].dataset == "laion2b-en"
    rows = rows_of(audit)
    assert [r["sample_id"] for r in rows] == [
        "laion2b-en:part-00001-abc:0",
        "laion2b-en:part-00001-abc:1",
    ]
    assert [r["hash"] for r in rows] == ["-123", "456"]
    assert rows[1]["punsafe"] == pa.scalar(0.95, pa.float32()).as_py()
    assert rows[1]["pwatermark"] is None
    assert [r["key"] for r in rows] == ["000000000", "000000001"]


def test_plain_url_text_parquet_and_caption_alias(audit: Audit, tmp_path: Path) -> None:
    a = write_parquet(tmp_path / "a.parquet", pa.table({"url": ["x"], "text": ["hello"]}))
    b = write_parquet(tmp_path / "b.parquet", pa.table({"Caption": ["hi"], "Url": ["y"]}))
    ingest(audit.store, [str(a), str(b)], dataset="mine")
    rows = rows_of(audit)
    assert [(r["url"], r["text"], r["dataset"]) for r in rows] == [
        ("x", "hello", "mine"),
        ("y", "hi", "mine"),
    ]


def test_csv_and_tsv_with_header(audit: Audit, tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text(
        'URL,TEXT,NSFW,punsafe,note\nhttp://a,"two\nlines, quoted",UNSURE,0.7,x\n'
        "http://b,plain,NSFW,oops,y\n",
        encoding="utf-8",
    )
    (tmp_path / "m.tsv").write_text("url\tcaption\nhttp://c\ttab separated\n", encoding="utf-8")
    report = ingest(audit.store, [str(tmp_path / "m.csv"), str(tmp_path / "m.tsv")])
    rows = rows_of(audit)
    assert [r["text"] for r in rows] == ["two\nlines, quoted", "plain", "tab separated"]
    assert [r["punsafe"] for r in rows] == [0.7, None, None]
    assert rows[0]["note"] == "x"
    assert report.files[0].warnings.counts == {"not a number in punsafe (kept as NULL)": 1}
    examples = report.files[0].warnings.examples
    assert examples["not a number in punsafe (kept as NULL)"] == "source_row 1"


def test_img2dataset_files_folder_links_images_by_key(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "out"
    img2dataset_shard(out, "00000", 3, as_tar=False)
    report = ingest(audit.store, [str(out)])
    assert [f.kind for f in report.files] == ["parquet"]
    rows = rows_of(audit)
    assert [r["text"] for r in rows] == [f"caption of 00000{i:04d}" for i in range(3)]
    assert all(r["image_ref"] and r["image_ref"].endswith(".png") for r in rows)
    assert load_image(audit, rows[1]).size == (8, 6)


def test_img2dataset_folder_without_parquet_reads_sidecars(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "out"
    img2dataset_shard(out, "00001", 2, as_tar=False, parquet=False)
    report = ingest(audit.store, [str(out)], dataset="d")
    assert [f.kind for f in report.files] == ["sidecars"]
    rows = rows_of(audit)
    assert [r["text"] for r in rows] == ["caption of 000010000", "caption of 000010001"]
    assert rows[0]["url"] == "https://img.example/000010000.png"
    assert load_image(audit, rows[0]).mode == "RGB"


def test_webdataset_tar_is_indexed_and_read_on_demand(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "wds"
    img2dataset_shard(out, "00002", 4, as_tar=True, parquet=False)
    before = sorted(os.listdir(out))
    ingest(audit.store, [str(out / "00002.tar")], dataset="wds")
    rows = rows_of(audit)
    assert len(rows) == 4
    assert rows[3]["image_ref"].endswith(":000020003.png")
    image = load_image(audit, rows[3])
    assert image.getpixel((0, 0)) == (60, 10, 10)
    assert sorted(os.listdir(out)) == before  # nothing unpacked


def test_ids_from_a_tar_shards_json_members_are_checked_for_repeats(
    audit: Audit, tmp_path: Path
) -> None:
    """The shard's first columns (key, caption, url) show no id; its .json members do."""
    shard = tmp_path / "ids.tar"
    with tarfile.open(shard, "w") as tar:
        for key in ("a", "b", "c"):
            meta = json.dumps({"sample_id": "X" if key != "c" else "Y", "url": f"u{key}"})
            for ext, data in (("txt", f"cap {key}".encode()), ("json", meta.encode())):
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    report = ingest(audit.store, [str(shard)])
    assert [(r["sample_id"], r["text"]) for r in rows_of(audit)] == [("X", "cap a"), ("Y", "cap c")]
    assert report.files[0].warnings.counts == {
        "duplicate sample_id in the file (later rows skipped)": 1
    }


def test_img2dataset_tar_shard_with_parquet(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "wds"
    img2dataset_shard(out, "00003", 2, as_tar=True)
    report = ingest(audit.store, [str(out)])
    assert [f.kind for f in report.files] == ["parquet"]  # the tar belongs to the parquet
    rows = rows_of(audit)
    assert all(r["image_ref"] for r in rows)
    with tarfile.open(out / "00003.tar") as tar:
        assert len(tar.getnames()) == 6
    assert load_image(audit, rows[0]).size == (8, 6)


def test_directory_and_glob_sources(audit: Audit, tmp_path: Path) -> None:
    for i in range(3):
        write_parquet(tmp_path / "d" / f"part-{i}.parquet", laion400m_table(2, start=10 * i))
    (tmp_path / "d" / "README.txt").write_text("not data")
    report = ingest(audit.store, [str(tmp_path / "d")])
    assert len(report.files) == 3 and report.inserted == 6
    audit2 = Audit.init(tmp_path / "other")
    report2 = ingest(audit2.store, [str(tmp_path / "d" / "part-[12].parquet")])
    assert [f.path.name for f in report2.files] == ["part-1.parquet", "part-2.parquet"]
    audit2.close()


def test_images_option_matches_metadata_by_url(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "downloaded"
    img2dataset_shard(out, "00000", 3, as_tar=False)
    meta = pa.table(
        {
            "SAMPLE_ID": [7, 8, 9],
            "URL": [f"https://img.example/00000{i:04d}.png" for i in (2, 0)] + ["https://nope"],
            "TEXT": ["caption of 000000002", "caption of 000000000", "c"],
            "NSFW": ["UNLIKELY"] * 3,
        }
    )
    path = write_parquet(tmp_path / "meta.parquet", meta)
    ingest(audit.store, [str(path)], images=out)
    rows = rows_of(audit)
    assert rows[0]["image_ref"].endswith("000000002.png")
    assert rows[1]["image_ref"].endswith("000000000.png")
    assert rows[2]["image_ref"] is None


def test_images_option_with_tar_shards_matches_by_url(audit: Audit, tmp_path: Path) -> None:
    out = tmp_path / "wds"
    img2dataset_shard(out, "00000", 2, as_tar=True)
    meta = pa.table(
        {"URL": ["https://img.example/000000001.png"], "TEXT": ["caption of 000000001"]}
    )
    ingest(audit.store, [str(write_parquet(tmp_path / "m.parquet", meta))], images=out)
    (row,) = rows_of(audit)
    assert row["image_ref"].endswith(":000000001.png")
    assert load_image(audit, row).getpixel((0, 0)) == (20, 10, 10)


def test_reingest_adds_nothing_even_from_another_path(audit: Audit, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "a.parquet", laion400m_table(4))
    ingest(audit.store, [str(path)])
    (tmp_path / "copy").mkdir()
    copy = tmp_path / "copy" / "a.parquet"
    copy.write_bytes(path.read_bytes())
    report = ingest(audit.store, [str(path), str(copy)])
    assert [f.skipped is not None for f in report.files] == [True, True]
    assert audit.store.samples.count() == 4
    assert audit.store.scalar("SELECT count(*) FROM ingested_files") == 1


def test_large_file_streams_in_several_batches(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct, "ENABLED", False)  # the staged path reads batch by batch
    path = write_parquet(tmp_path / "big.parquet", laion400m_table(70_000), row_group_size=20_000)
    seen: list[tuple[int, int | None]] = []
    ingest(audit.store, [str(path)], progress=lambda d, t: seen.append((d, t)))
    assert len(seen) >= 2 and seen[-1] == (70_000, 70_000)
    assert audit.store.samples.count() == 70_000
    assert pq.ParquetFile(path).metadata.num_row_groups == 4


def test_edge_layouts_empty_files_reserved_names_and_nested_columns(
    audit: Audit, tmp_path: Path
) -> None:
    empty = write_parquet(tmp_path / "empty.parquet", laion400m_table(0))
    (tmp_path / "header.csv").write_text("url,text\n")
    odd = pa.table(
        {
            "TEXT": ["a"],
            "caption": ["second caption column"],
            "dataset": ["theirs"],
            "exif": pa.array([[1, 2]], pa.list_(pa.int64())),
            "7up": [1.5],
        }
    )
    path = write_parquet(tmp_path / "odd.parquet", odd)
    report = ingest(audit.store, [str(empty), str(tmp_path / "header.csv"), str(path)], dataset="x")
    assert [f.inserted for f in report.files] == [0, 0, 1]
    (row,) = rows_of(audit)
    assert row["text"] == "a" and row["caption"] == "second caption column"
    assert row["dataset"] == "x" and row["src_dataset"] == "theirs"
    assert row["exif"] == "[1, 2]" and row["x_7up"] == 1.5
    assert audit.store.scalar("SELECT count(*) FROM ingested_files") == 3


def test_staging_holds_no_lock_and_shows_no_partial_rows(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BATCH_ROWS", 1_000)
    monkeypatch.setattr(direct, "ENABLED", False)  # staging is the staged path's
    ingest(audit.store, [str(write_parquet(tmp_path / "a.parquet", laion400m_table(5)))])
    seen: list[int] = []

    def progress(done: int, total: int | None) -> None:
        seen.append(audit.store.samples.count())  # opens a read connection mid-ingest

    big = write_parquet(tmp_path / "b.parquet", laion400m_table(5_000, start=100))
    ingest(audit.store, [str(big)], progress=progress)
    assert len(seen) == 5 and set(seen) == {5}
    assert audit.store.samples.count() == 5_005
