"""``reviewer match``: list files, exact and PDQ matches, quarantine, all-or-nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from reviewer.errors import ReviewerError
from reviewer.export import ExportOptions, export
from reviewer.known_lists import read_list
from reviewer.matching import match_list
from tests.conftest import Cli
from tests.exposure.conftest import HashAudit


def _pdq(h: HashAudit, sid: str) -> str:
    rows = {r["sample_id"]: r for r in h.audit.store.hashes.hashes().to_pylist()}
    return str(rows[sid]["pdq"])


def _flip(hex_hash: str, bits: int) -> str:
    """The hash with its lowest ``bits`` bits flipped: at Hamming distance ``bits``."""
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def test_list_file_forms_crlf_comments_duplicates(tmp_path: Path) -> None:
    digest = "a" * 32
    path = tmp_path / "bank.csv"
    path.write_bytes(
        f"type,value\r\nmd5,{digest.upper()}\r\n# a comment\r\n\r\nmd5:{digest}\r\n"
        "domain:Example.ORG\r\nurl:https://x.test/A.jpg\r\n".encode()
    )
    known = read_list(path, "bank")
    assert known.counts() == {"md5": 1, "url": 1, "domain": 1}
    assert known.duplicates == 1
    assert known.entries["md5"].to_pylist() == [digest]
    assert known.entries["domain"].to_pylist() == ["example.org"]
    assert known.entries["url"].to_pylist() == ["https://x.test/A.jpg"]
    assert known.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("phash:" + "0" * 64, "line 2: unknown entry type 'phash'"),
        ("md5:" + "0" * 31, "line 2: md5 needs 32 hex digits"),
        ("pdq:" + "g" * 64, "line 2: pdq value is not hexadecimal"),
        ("sha256:" + "0" * 40, "line 2: sha256 needs 64 hex digits"),
        ("just some text", "line 2: not a 'type:value' entry"),
        ("domain:exa mple.org", "line 2: malformed domain value"),
    ],
)
def test_bad_lines_refuse_the_whole_list(
    hashed: HashAudit, tmp_path: Path, line: str, message: str
) -> None:
    data = hashed.files["s00000"]
    assert data is not None
    path = tmp_path / "bad.txt"
    path.write_text(f"md5:{hashlib.md5(data).hexdigest()}\n{line}\n")
    with pytest.raises(ReviewerError, match=message):
        match_list(hashed.audit, str(path))
    assert hashed.audit.labels.quarantined_ids() == set()
    assert hashed.audit.labels.list_runs() == []


def test_missing_and_empty_lists(hashed: HashAudit, tmp_path: Path) -> None:
    with pytest.raises(ReviewerError, match="no such file"):
        match_list(hashed.audit, str(tmp_path / "nope.txt"))
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ReviewerError, match="no entries"):
        match_list(hashed.audit, str(tmp_path / "empty.txt"))


def test_hash_entries_need_an_image_hash_run(hash_audit: HashAudit, tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_text("md5:" + "0" * 32 + "\n")
    with pytest.raises(ReviewerError, match="no complete image-hash run"):
        match_list(hash_audit.audit, str(tmp_path / "l.txt"))


def test_exact_and_pdq_matches_quarantine_with_the_list_name(
    hashed: HashAudit, tmp_path: Path
) -> None:
    b = hashed.files["s00001"]
    assert b is not None
    near = _pdq(hashed, "s00000")  # the resized copy is 28 bits away
    path = tmp_path / "bank.txt"
    path.write_text(
        f"sha256:{hashlib.sha256(b).hexdigest()}\npdq:{near}\n"
        "url:https://example.org/img/7.jpg\n"
    )
    result = match_list(hashed.audit, str(path), "bank")
    # b.jpg and its byte copy; a.jpg and its resized near copy by PDQ; s00007 by URL.
    assert hashed.audit.labels.quarantined_ids() == {
        "s00000", "s00001", "s00002", "s00003", "s00007"
    }
    assert result.matched == {"sha256": 2, "pdq": 2, "url": 1}
    assert result.quarantined == 5
    table = hashed.audit.labels.quarantine_table().to_pylist()
    assert {r["reason"] for r in table} == {"list:bank"}
    (run,) = hashed.audit.labels.list_runs()
    assert run["list_name"] == "bank" and run["entries"] == 3
    assert run["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pdq_distance_bounds_the_match(hashed: HashAudit, tmp_path: Path) -> None:
    far = _flip(_pdq(hashed, "s00004"), 32)
    close = _flip(_pdq(hashed, "s00007"), 31)
    (tmp_path / "l.txt").write_text(f"pdq:{far}\npdq:{close}\n")
    match_list(hashed.audit, str(tmp_path / "l.txt"))
    assert hashed.audit.labels.quarantined_ids() == {"s00007"}


def test_low_quality_hashes_are_not_matched_but_reported(
    hashed: HashAudit, tmp_path: Path
) -> None:
    rows = {r["sample_id"]: r for r in hashed.audit.store.hashes.hashes().to_pylist()}
    assert rows["s00008"]["pdq_quality"] < 50
    (tmp_path / "l.txt").write_text(f"pdq:{rows['s00008']['pdq']}\n")
    result = match_list(hashed.audit, str(tmp_path / "l.txt"))
    assert result.low_quality == 1 and hashed.audit.labels.quarantined_ids() == set()


def test_domain_entries_cover_subdomains(hashed: HashAudit, tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_text("domain:org\n")
    match_list(hashed.audit, str(tmp_path / "l.txt"))
    assert len(hashed.audit.labels.quarantined_ids()) == 9
    (tmp_path / "m.txt").write_text("domain:ample.org\n")
    result = match_list(hashed.audit, str(tmp_path / "m.txt"))
    assert result.samples_matched == 0


def test_cached_pixels_are_deleted_and_removal_lists_name_the_list(
    hashed: HashAudit, tmp_path: Path
) -> None:
    cache = hashed.audit.paths.images_cache
    (cache / "s00001.img").write_bytes(b"pixels")
    (cache / "s00004.img").write_bytes(b"pixels")
    b = hashed.files["s00001"]
    assert b is not None
    (tmp_path / "l.txt").write_text(f"md5:{hashlib.md5(b).hexdigest()}\n")
    result = match_list(hashed.audit, str(tmp_path / "l.txt"), "iwf")
    assert result.files_deleted == 1
    assert not (cache / "s00001.img").exists() and (cache / "s00004.img").exists()
    out = tmp_path / "removal.parquet"
    export(hashed.audit, ExportOptions(out=out, removal_list=True))
    rows = pq.read_table(out).to_pylist()
    assert {(r["sample_id"], r["reason"]) for r in rows} == {
        ("s00001", "list:iwf"), ("s00002", "list:iwf")
    }


def test_cli_prints_counts_never_captions(hashed: HashAudit, tmp_path: Path, cli: Cli) -> None:
    b = hashed.files["s00001"]
    assert b is not None
    (tmp_path / "l.txt").write_text(f"md5:{hashlib.md5(b).hexdigest()}\ndomain:nowhere.test\n")
    result = cli("match", hashed.audit.root, "--list", tmp_path / "l.txt", "--name", "t")
    assert result.code == 0, result.err
    assert "md5: 2 samples matched" in result.out
    assert "domain: 0 samples matched" in result.out
    assert "2 newly quarantined (reason list:t)" in result.out
    for text in (result.out, result.err):
        assert "secret caption" not in text and "s00001" not in text
    bad = cli("match", hashed.audit.root, "--list", tmp_path / "none.txt")
    assert bad.code != 0 and bad.err.startswith("error: list ")
    assert "Traceback" not in bad.err
