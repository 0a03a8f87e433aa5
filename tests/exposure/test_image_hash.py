"""The image-hash flagger: byte hashes, PDQ in ThreatExchange's hex form, bad images."""

from __future__ import annotations

import hashlib

import numpy as np
import pdqhash
from PIL import Image

from reviewer.flaggers.image_hash import hash_bytes
from tests.exposure.conftest import HashAudit, jpeg, picture


def _hma_hex(data: bytes) -> str:
    """Hasher-Matcher-Actioner's own conversion (python-threatexchange pdq_hasher):
    the bit vector read as one binary number, written as 64 hex digits."""
    import io

    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, _ = pdqhash.compute(rgb)
    return format(int("".join(str(int(b)) for b in bits), 2), "064x")


def _distance(x: str, y: str) -> int:
    return (int(x, 16) ^ int(y, 16)).bit_count()


def test_byte_hashes_and_pdq_match_independent_computations(hashed: HashAudit) -> None:
    rows = {r["sample_id"]: r for r in hashed.audit.store.hashes.hashes().to_pylist()}
    for sid in ("s00000", "s00001", "s00004"):
        data = hashed.files[sid]
        assert data is not None
        assert rows[sid]["md5"] == hashlib.md5(data).hexdigest()
        assert rows[sid]["sha1"] == hashlib.sha1(data).hexdigest()
        assert rows[sid]["sha256"] == hashlib.sha256(data).hexdigest()
        assert rows[sid]["pdq"] == _hma_hex(data)
        assert rows[sid]["pdq_quality"] >= 50


def test_copies_are_close_and_different_pictures_far(hashed: HashAudit) -> None:
    rows = {r["sample_id"]: r for r in hashed.audit.store.hashes.hashes().to_pylist()}
    assert rows["s00001"]["sha256"] == rows["s00002"]["sha256"]
    assert rows["s00000"]["sha256"] != rows["s00003"]["sha256"]
    assert _distance(rows["s00000"]["pdq"], rows["s00003"]["pdq"]) <= 31
    assert _distance(rows["s00000"]["pdq"], rows["s00004"]["pdq"]) > 31


def test_broken_and_missing_images_are_reported_not_fatal(hashed: HashAudit) -> None:
    rows = {r["sample_id"]: r for r in hashed.audit.store.hashes.hashes().to_pylist()}
    broken = hashed.files["s00005"]
    assert broken is not None
    assert rows["s00005"]["md5"] == hashlib.md5(broken).hexdigest()
    assert rows["s00005"]["pdq"] is None
    assert rows["s00006"]["md5"] is None and rows["s00006"]["pdq"] is None
    info = hashed.audit.store.flags.latest_runs()["image_hash"]
    assert info.extra["unscored_images"] == {"no image": 1}
    assert info.extra["pdq_unavailable"] == {"not an image": 1}


def test_a_decompression_bomb_gets_no_pdq() -> None:
    data = jpeg(picture(5, (400, 400)))
    hashes, reason = hash_bytes(data, max_pixels=100 * 100)
    assert reason == "too large" and hashes.pdq is None
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()
