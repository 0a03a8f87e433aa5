"""Image hashes: MD5, SHA-1 and SHA-256 of the bytes, PDQ perceptual hash and its quality.

Why: trust & safety teams hold hash lists of known illegal or abusive images
(MD5 / SHA-256 of the file, PDQ for re-encoded copies), and web datasets are full
of re-posts. Hashing every local image once lets ``reviewer match`` quarantine
listed items before anyone sees them and ``reviewer groups`` decide
near-duplicates once. PDQ is Meta's open perceptual hash (256 bits, match at
Hamming distance <= 31, quality 0-100, discard below 50), computed here by
``pdqhash`` (Meta's C++ reference implementation behind Python bindings) and
stored as the 64-hex-digit string ThreatExchange and Hasher-Matcher-Actioner
write, so their hash banks match as exported.

Images are decoded through :func:`reviewer.images.decode.decode_image` (bomb and
corruption checks) only to hash them; no pixel is written or rendered. Only
local images (``image_ref``) are hashed: nothing is fetched from origin servers.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from reviewer.errors import ImageUnavailableError, ReviewerError
from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.base import Flagger

if TYPE_CHECKING:
    from reviewer.audit import Audit


@dataclass(frozen=True)
class ImageHashes:
    """The hashes of one image; ``pdq`` is ``None`` when the bytes would not decode."""

    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None


def pdq_hex(data: bytes, max_pixels: int) -> tuple[str, int]:
    """PDQ hash (64 hex digits, most significant bit first) and quality of encoded image bytes.

    Raises:
        ImageUnavailableError: not an image, corrupt, or larger than ``max_pixels``.
    """
    import numpy as np
    import pdqhash

    from reviewer.images.decode import decode_image

    rgb = np.asarray(decode_image(data, max_pixels))
    bits, quality = pdqhash.compute(rgb)
    return bits_to_hex(np.asarray(bits)), int(quality)


def bits_to_hex(bits: Any) -> str:
    """``pdqhash``'s 256 0/1 values -> the 64-hex string of ThreatExchange.

    pdqhash already orders the bits as the reference ``hashtool256 bits`` prints
    them (word 15 first, most significant bit first), which is the order of the
    hex string Meta's ``Hash256::format`` and Hasher-Matcher-Actioner write.
    """
    import numpy as np

    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hash_bytes(data: bytes, max_pixels: int) -> tuple[ImageHashes, str | None]:
    """All hashes of ``data``, and the reason PDQ could not be computed (or ``None``)."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        pdq, quality = pdq_hex(data, max_pixels)
    except ImageUnavailableError as exc:
        return ImageHashes(md5, sha1, sha256, None, None), exc.reason
    return ImageHashes(md5, sha1, sha256, pdq, quality), None


class ImageHashFlagger(Flagger):
    """MD5, SHA-1, SHA-256 and PDQ (with quality) of every local image; raises no flag itself."""

    name: ClassVar[str] = "image_hash"
    version: ClassVar[str] = "1"
    batch_size: ClassVar[int] = 512
    inputs: ClassVar[tuple[str, ...]] = ("sample_id", "image_ref")
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["image_hash"]
    model_id = "pdqhash"

    def __init__(self, audit: Audit | None = None, workers: int = 2) -> None:
        self.audit = audit
        self.workers = max(1, workers)
        self.unscored: dict[str, int] = {}
        self.no_pdq: dict[str, int] = {}

    def unavailable(self) -> str | None:
        """``pdqhash`` missing (it is a core dependency; a broken install)."""
        try:
            import pdqhash  # noqa: F401
        except ImportError:
            return "needs pdqhash (pip install pdqhash)"
        return None

    def score_batch(self, batch: pa.Table) -> pa.Table:
        """Hash a batch in a thread pool (hashlib and PDQ release the GIL while they work)."""
        if self.audit is None:
            raise ReviewerError(
                "image-hash: no audit to read images from", "run it through `reviewer flag`"
            )
        refs = batch.column("image_ref").to_pylist()
        with ThreadPoolExecutor(self.workers) as pool:
            results = list(pool.map(self._hash_one, refs))
        columns: dict[str, list[Any]] = {k: [] for k in self.columns}
        errors: list[str | None] = []
        for hashes, reason in results:
            for key in columns:
                columns[key].append(getattr(hashes, key) if hashes else None)
            errors.append(reason)
            if reason is not None:
                counts = self.unscored if hashes is None else self.no_pdq
                counts[reason] = counts.get(reason, 0) + 1
        return pa.table(
            {
                "sample_id": batch.column("sample_id"),
                **{k: pa.array(v, self.columns[k]) for k, v in columns.items()},
                "error": pa.array(errors, pa.string()),
            }
        )

    def _hash_one(self, ref: str | None) -> tuple[ImageHashes | None, str | None]:
        """Hashes of one sample's local image, or the reason there are none."""
        assert self.audit is not None
        if not ref:
            return None, "no image"
        from reviewer.images.resolve import read_local

        settings = self.audit.settings.images
        try:
            data = read_local(self.audit, str(ref), settings.fetch_max_bytes)
        except ImageUnavailableError as exc:
            return None, exc.reason
        return hash_bytes(data, settings.max_pixels)

    def extra_provenance(self) -> dict[str, Any]:
        """Counts by reason of images not hashed at all (unreadable) and of images whose
        bytes were hashed but whose pixels would not decode (no PDQ hash)."""
        return {"unscored_images": dict(self.unscored), "pdq_unavailable": dict(self.no_pdq)}
