"""Image links are proven by img2dataset's records: every layout, several outputs, bad input.

Every test checks, sample by sample, that a linked image's bytes are exactly the
bytes downloaded for that sample's url, and that failed downloads link nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.images import resolve
from reviewer.images.resolve import read_local
from reviewer.ingest import ingest
from reviewer.ingest.attach import attach_images, check_links
from tests.conftest import Cli
from tests.ingest.conftest import rows_of, write_parquet
from tests.ingest.i2d import Output, laion_meta, picture, write_output

FORMATS = ["files", "webdataset", "parquet"]


def _rows(site: str, n: int) -> list[tuple[str, str]]:
    return [(f"https://{site}.example/img/{i}.jpg", f"{site} caption {i}") for i in range(n)]


def _assert_proven(audit: Audit, outputs: list[Output]) -> int:
    """Each linked sample shows the picture downloaded for its url; failures link nothing."""
    downloaded: dict[str, bytes] = {}
    for out in outputs:
        downloaded.update(out.downloaded)
    linked = 0
    for row in rows_of(audit):
        if row["image_ref"] is None:
            continue
        assert row["url"] in downloaded, f"{row['sample_id']} linked without a download"
        assert read_local(audit, row["image_ref"], 10**8) == downloaded[row["url"]]
        linked += 1
    return linked


def _two_datasets(tmp_path: Path, fmt: str) -> tuple[Path, Output, Output]:
    """Two outputs under one parent with the SAME keys (9 digits: shards from 13417)."""
    parent = tmp_path / "i2d"
    a = write_output(parent / "laion_a", fmt, _rows("a", 10), failed={2, 7}, first_shard=13417)
    b = write_output(parent / "laion_b", fmt, _rows("b", 10), failed={0}, first_shard=13417)
    assert set(a.keys.values()) == set(b.keys.values())
    return parent, a, b


@pytest.mark.parametrize("fmt", FORMATS)
def test_parent_of_several_outputs_links_each_sample_to_its_own_picture(
    audit: Audit, tmp_path: Path, fmt: str
) -> None:
    parent, a, _b = _two_datasets(tmp_path, fmt)
    # SAMPLE_IDs 134170000.. equal the keys of both outputs: a failed row's id names
    # another sample's image in laion_b; it must not be linked by that name.
    meta = write_parquet(
        tmp_path / "meta" / "part-0.parquet", laion_meta(_rows("a", 10), 134170000)
    )
    report = ingest(audit.store, [str(meta)], images=parent)
    assert report.attached is not None
    assert report.attached.links.counts["linked"] == 8
    assert report.attached.links.counts["failed"] == 2
    assert _assert_proven(audit, [a]) == 8
    failed = [r for r in rows_of(audit) if r["url"] in a.failed]
    assert [r["sample_id"] for r in failed] == ["134170002", "134170007"]
    assert all(r["image_ref"] is None for r in failed)


@pytest.mark.parametrize("fmt", FORMATS)
def test_outputs_as_sources_link_within_their_own_shard(
    audit: Audit, tmp_path: Path, fmt: str
) -> None:
    parent, a, b = _two_datasets(tmp_path, fmt)
    report = ingest(audit.store, [str(parent)])
    by_dataset = audit.store.samples.summary().by_dataset
    assert by_dataset == {"laion_a": 10, "laion_b": 10}  # one per output, not per shard
    assert report.links.counts == {"linked": 17, "failed": 3}
    assert _assert_proven(audit, [a, b]) == 17
    columns = audit.store.samples.columns()
    assert "jpg" not in columns  # image bytes are read on demand, never stored
    row = next(r for r in rows_of(audit) if r["image_ref"])
    assert (row["original_width"], row["original_height"]) == (800, 600)


def test_images_attach_later_without_duplicating(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    parent, a, _ = _two_datasets(tmp_path, "webdataset")
    meta = write_parquet(tmp_path / "meta.parquet", laion_meta(_rows("a", 10), 134170000))
    ingest(audit.store, [str(meta)])
    assert audit.store.samples.summary().with_images == 0
    ran = cli("images", audit.root, "--images", parent)
    assert ran.code == 0, ran.err
    assert "linked: 8" in ran.out and "no image (failed download): 2" in ran.out
    assert _assert_proven(audit, [a]) == 8
    # ingest --images on the already-ingested file links too, and adds no sample
    audit2 = Audit.init(tmp_path / "audit2")
    ingest(audit2.store, [str(meta)])
    report = ingest(audit2.store, [str(meta)], images=parent)
    assert report.files[0].skipped and report.inserted == 0
    assert audit2.store.samples.count() == 10 and _assert_proven(audit2, [a]) == 8
    audit2.close()


def test_check_reports_every_link(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    parent, _a, _b = _two_datasets(tmp_path, "files")
    ingest(audit.store, [str(parent)])
    assert check_links(audit).outcomes.counts == {"ok": 17}
    member = next(iter(sorted((parent / "laion_a" / "13417").glob("*.jpg"))))
    member.write_bytes(b"<html>gone</html>")
    next(iter(sorted((parent / "laion_b" / "13417").glob("*.jpg")))).unlink()
    ran = cli("images", audit.root, "--check")
    assert ran.code == 2
    assert "checked 17 link(s)" in ran.out
    assert "does not decode as an image: 1" in ran.out
    assert "image missing: 1" in ran.out
    assert (
        ran.err.strip() == "error: 2 image link(s) failed the check — re-fetch the shards"
        " named, or re-link with `reviewer images DIR --images PATH`"
    )


def test_sidecar_naming_another_url_links_nothing(audit: Audit, tmp_path: Path) -> None:
    out = write_output(tmp_path / "i2d" / "x", "files", _rows("x", 4))
    sidecar = tmp_path / "i2d" / "x" / "00000" / "000000001.json"
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "url": "https://elsewhere.example/1.jpg"}))
    report = ingest(audit.store, [str(tmp_path / "i2d")])
    assert report.links.counts == {"linked": 3, "disagree": 1}
    assert _assert_proven(audit, [out]) == 3
    bad = next(r for r in rows_of(audit) if r["url"].endswith("/1.jpg"))
    assert bad["image_ref"] is None


def test_one_url_two_different_pictures_is_a_conflict_unless_md5_decides(
    audit: Audit, tmp_path: Path
) -> None:
    rows = _rows("c", 3)
    write_output(tmp_path / "i2d" / "one", "files", rows)
    two = write_output(tmp_path / "i2d" / "two", "files", rows)
    other = picture("something else")
    (tmp_path / "i2d" / "two" / "00000" / "000000001.jpg").write_bytes(other)
    meta = pa.table({"URL": [u for u, _ in rows], "TEXT": [c for _, c in rows]})
    report = ingest(audit.store, [str(write_parquet(tmp_path / "m.parquet", meta))],
                    images=tmp_path / "i2d")  # fmt: skip
    assert report.attached is not None
    assert report.attached.links.counts == {"linked": 2, "conflict": 1}  # identical bytes: fine
    assert _assert_proven(audit, [two]) == 2
    # with the LAION md5 of the right picture, the matching copy is linked
    audit2 = Audit.init(tmp_path / "a2")
    md5 = [hashlib.md5(picture(u)).hexdigest() for u, _ in rows]
    meta2 = meta.append_column("md5", pa.array(md5))
    ingest(
        audit2.store, [str(write_parquet(tmp_path / "m2.parquet", meta2))], images=tmp_path / "i2d"
    )
    assert _assert_proven(audit2, [two]) == 3
    audit2.close()


def test_caption_must_agree_when_both_have_one(audit: Audit, tmp_path: Path) -> None:
    rows = _rows("d", 2)
    write_output(tmp_path / "i2d", "webdataset", rows)
    meta = pa.table({"URL": [u for u, _ in rows], "TEXT": [rows[0][1], "another caption"]})
    report = ingest(audit.store, [str(write_parquet(tmp_path / "m.parquet", meta))],
                    images=tmp_path / "i2d")  # fmt: skip
    assert report.attached is not None
    assert report.attached.links.counts == {"linked": 1, "caption": 1}


def test_stray_images_link_by_unique_stem_only(audit: Audit, tmp_path: Path) -> None:
    parent = tmp_path / "mixed"
    a = write_output(parent / "run", "files", _rows("e", 4), failed={1})
    (parent / "loose").mkdir()
    (parent / "loose" / "777.jpg").write_bytes(picture("stray 777"))
    (parent / "loose" / "888.jpg").write_bytes(picture("stray 888 a"))
    (parent / "more").mkdir()
    (parent / "more" / "888.png").write_bytes(picture("stray 888 b"))
    failed_url = next(iter(a.failed))
    meta = pa.table(
        {
            "SAMPLE_ID": ["777", "888", "000000000", "000000001"],
            "URL": ["https://nowhere/1", "https://nowhere/2", "https://nowhere/3", failed_url],
            "TEXT": ["s", "t", "u", "e caption 1"],
        }
    )
    report = ingest(audit.store, [str(write_parquet(tmp_path / "m.parquet", meta))], images=parent)
    assert report.attached is not None
    counts = report.attached.links.counts
    assert (counts["linked"], counts["ambiguous"], counts["failed"], counts["none"]) == (1, 1, 1, 1)
    rows = {r["sample_id"]: r for r in rows_of(audit)}
    assert read_local(audit, rows["777"]["image_ref"], 10**8) == picture("stray 777")
    # key 000000000 exists in the run, but that image has a record: no name match
    assert rows["000000000"]["image_ref"] is None and rows["000000001"]["image_ref"] is None


def test_corrupt_parquet_cell_fails_the_check(audit: Audit, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = write_output(tmp_path / "pq" / "p", "parquet", _rows("f", 3))
    shard = tmp_path / "pq" / "p" / "00000.parquet"
    table = pq.read_table(shard)
    cells = table.column("jpg").to_pylist()
    cells[1] = cells[1][:20]  # a cut-off JPEG
    jpg = table.schema.get_field_index("jpg")
    pq.write_table(table.set_column(jpg, "jpg", pa.array(cells, pa.binary())), shard)
    ingest(audit.store, [str(tmp_path / "pq")])
    assert check_links(audit).outcomes.counts == {"ok": 2, "undecodable": 1}
    rows = rows_of(audit)
    assert read_local(audit, rows[1]["image_ref"], 10**8) == cells[1]
    for row in (rows[0], rows[2]):
        assert read_local(audit, row["image_ref"], 10**8) == out.downloaded[row["url"]]


def test_truncated_tar_member_fails_the_check(audit: Audit, tmp_path: Path) -> None:
    write_output(tmp_path / "wds" / "w", "webdataset", _rows("g", 3))
    tar_path = tmp_path / "wds" / "w" / "00000.tar"
    ingest(audit.store, [str(tmp_path / "wds")])
    with tarfile.open(tar_path) as tar:
        last = max((m for m in tar.getmembers() if m.name.endswith(".jpg")),
                   key=lambda m: m.offset_data)  # fmt: skip
    with tar_path.open("r+b") as fh:
        fh.truncate(last.offset_data + last.size // 2)
    resolve.forget_roots()
    report = check_links(audit)
    assert report.checked == 3 and report.bad >= 1
    assert report.outcomes.counts["ok"] < 3


def test_images_command_needs_something_to_do(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "empty").mkdir()
    for args, words in (
        ((), "error: nothing to do"),
        (("--images", tmp_path / "none"), "no such file or folder"),
        (("--images", tmp_path / "empty"), "no images found"),
    ):
        ran = cli("images", audit.root, *args)
        assert ran.code == 2 and ran.err.startswith("error: ") and words in ran.err
        assert len(ran.err.strip().splitlines()) == 1


def test_attach_is_idempotent(audit: Audit, tmp_path: Path) -> None:
    parent, a, _ = _two_datasets(tmp_path, "parquet")
    meta = write_parquet(tmp_path / "meta.parquet", laion_meta(_rows("a", 10), 1))
    ingest(audit.store, [str(meta)])
    first = attach_images(audit.store, parent)
    second = attach_images(audit.store, parent)
    assert first.changed == 8 and second.changed == 0
    assert _assert_proven(audit, [a]) == 8


def test_export_with_image_path_names_the_picture_and_its_hash(
    audit: Audit, tmp_path: Path, cli: Cli
) -> None:
    import pyarrow.parquet as pq

    outs = [write_output(tmp_path / "i2d" / fmt, fmt, _rows(fmt, 5), failed={3}) for fmt in FORMATS]
    ingest(audit.store, [str(tmp_path / "i2d")])
    target = tmp_path / "subset.parquet"
    ran = cli("export", audit.root, "--out", target, "--with-image-path")
    assert ran.code == 0, ran.err
    rows = pq.read_table(target).to_pylist()
    assert len(rows) == 15 and "jpg" not in rows[0]
    downloaded = {u: d for out in outs for u, d in out.downloaded.items()}
    shapes = {
        "files": r"/files/0000\d/0000\d{5}\.jpg$",
        "webdataset": r"/webdataset/0000\d\.tar#0000\d{5}\.jpg$",
        "parquet": r"/parquet/0000\d\.parquet#\d$",
    }
    for row in rows:
        if row["url"] not in downloaded:
            assert row["image_path"] is None and row["image_sha256"] is None
            continue
        assert row["image_sha256"] == hashlib.sha256(downloaded[row["url"]]).hexdigest()
        assert re.search(shapes[row["dataset"]], row["image_path"]), row["image_path"]
        if row["dataset"] == "files":
            assert Path(row["image_path"]).read_bytes() == downloaded[row["url"]]
    assert sum(r["image_sha256"] is not None for r in rows) == 12
    ran = cli("export", audit.root, "--out", tmp_path / "r.csv", "--removal-list",
              "--with-image-path")  # fmt: skip
    assert ran.code == 2 and "--with-image-path applies to" in ran.err


def test_image_path_column_links_survive_the_images_pass(audit: Audit, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(picture("a"))
    meta = tmp_path / "m.csv"
    meta.write_text("url,text,image_path\nhttp://x/1,t,a.jpg\n")
    report = ingest(audit.store, [str(meta)], images=tmp_path / "imgs")
    assert report.attached is not None and report.attached.links.counts == {"none": 1}
    (row,) = rows_of(audit)
    assert read_local(audit, row["image_ref"], 10**8) == picture("a")
