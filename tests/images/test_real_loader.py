"""Bombs and corrupt files through the real ``resolve.load_image`` become statuses.

The images are placed where ``load_image`` keeps a fetched URL's bytes
(``fetch.cache_path``), so no network is involved: the cache file is read, then
decoded with the real bomb and corruption checks.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from reviewer.images.blur import RevealStep, check_safe
from reviewer.images.fetch import cache_path
from reviewer.images.preview_cache import REMOVED, PreviewCache

WAIT = 10


def png_header_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few hundred bytes claiming 10 gigapixels: decoding it would exhaust memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


CASES = {
    "bomb": (png_header_bomb(), "image unavailable (too large)"),
    "garbage": (b"<html>404 not found</html>", "image unavailable (not an image)"),
    "truncated": (jpeg()[:300], "image unavailable (corrupt)"),
    "good": (jpeg(), ""),
}


@pytest.fixture
def cached_samples(audit):
    samples = []
    for sid, (data, _) in CASES.items():
        cache_path(audit.paths.images_cache, sid).write_bytes(data)
        samples.append(
            {"sample_id": sid, "url": f"https://example.invalid/{sid}", "image_ref": None}
        )
    return samples


def test_bombs_and_corrupt_files_become_statuses(audit, cached_samples):
    with PreviewCache(audit) as cache:
        got = {
            s["sample_id"]: cache.request(s, RevealStep.HEAVY).result(WAIT) for s in cached_samples
        }
    for sid, (_, status) in CASES.items():
        assert got[sid].status == status, sid
    check_safe(got["good"].image, RevealStep.HEAVY)


def test_sample_without_image_or_url_says_so(audit):
    with PreviewCache(audit) as cache:
        preview = cache.request(
            {"sample_id": "x", "url": None, "image_ref": None}, RevealStep.LIGHT
        )
        assert preview.result(WAIT).status == "image unavailable (no image)"


def test_forget_deletes_the_fetched_original(audit, cached_samples):
    target = cache_path(audit.paths.images_cache, "good")
    with PreviewCache(audit) as cache:
        cache.request(cached_samples[-1], RevealStep.HEAVY).result(WAIT)
        cache.forget("good")
        assert not target.exists()
        assert cache.request(cached_samples[-1], RevealStep.FULL).result(WAIT).status == REMOVED


def test_forget_deletes_the_hashed_file_of_a_hostile_id(audit):
    sid = "../../etc/passwd"
    target = cache_path(audit.paths.images_cache, sid)
    target.write_bytes(jpeg())
    with PreviewCache(audit) as cache:
        cache.forget(sid)
    assert not target.exists()
