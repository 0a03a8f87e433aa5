"""An audit with local images: distinct pictures, exact and near copies, broken files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from reviewer.audit import Audit
from tests.conftest import sample_rows


def picture(seed: int, size: tuple[int, int] = (256, 192)) -> Image.Image:
    """A smooth random picture (random low-resolution colours upscaled): PDQ quality is high
    and pictures of different seeds are far apart."""
    rng = np.random.default_rng(seed)
    small = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class HashAudit:
    """The audit and the bytes behind each sample (``None``: no readable file)."""

    audit: Audit
    files: dict[str, bytes | None]


NAMES = {
    "s00000": "a.jpg",  # picture 0
    "s00001": "b.jpg",  # picture 1
    "s00002": "b-copy.jpg",  # the same bytes as b.jpg
    "s00003": "a-small.jpg",  # picture 0 resized and recompressed: a near copy
    "s00004": "c.jpg",  # picture 2
    "s00005": "broken.jpg",  # not an image
    "s00006": "gone.jpg",  # missing
    "s00007": "d.jpg",  # picture 3
    "s00008": "flat.png",  # one flat colour: PDQ quality 0
}


@pytest.fixture
def hash_audit(audit: Audit, tmp_path: Path) -> HashAudit:
    folder = tmp_path / "images"
    folder.mkdir()
    a, b = jpeg(picture(0)), jpeg(picture(1))
    files: dict[str, bytes | None] = {
        "a.jpg": a,
        "b.jpg": b,
        "b-copy.jpg": b,
        "a-small.jpg": jpeg(picture(0).resize((200, 150)), quality=60),
        "c.jpg": jpeg(picture(2)),
        "broken.jpg": b"<html>not found</html>",
        "gone.jpg": None,
        "d.jpg": jpeg(picture(3)),
        "flat.png": _png(Image.new("RGB", (64, 64), (90, 90, 90))),
    }
    for name, data in files.items():
        if data is not None:
            (folder / name).write_bytes(data)
    with audit.store.ingest.transaction() as conn:
        root = audit.store.ingest.image_root_id(conn, str(folder), "dir")
    rows = sample_rows(len(NAMES))
    for row in rows:
        row["image_ref"] = f"{root}:{NAMES[row['sample_id']]}"
        row["text"] = f"secret caption of {row['sample_id']}"
    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, pa.Table.from_pylist(rows))
    return HashAudit(audit, {sid: files[name] for sid, name in NAMES.items()})


@pytest.fixture
def hashed(hash_audit: HashAudit) -> HashAudit:
    """``hash_audit`` after a complete image-hash run."""
    from reviewer.flaggers.runner import run_flagger

    run_flagger(hash_audit.audit, "image_hash")
    return hash_audit
