"""img2dataset-shaped outputs for tests: ``files``, ``webdataset`` and ``parquet`` layouts.

Written the way img2dataset 1.47 writes them: per shard ``{shard}.parquet`` with
``key, url, caption, status, error_message, width, height, original_width,
original_height, md5``; keys ``{shard:05d}{index:04d}`` (9 digits from shard
10000 on); failed rows only in the parquet; ``files`` = ``{shard}/`` with
``{key}.jpg/.txt/.json``; ``webdataset`` = ``{shard}.tar`` of the same members;
``parquet`` = the image bytes in a ``jpg`` column of the shard parquet. Each
url's picture is unique, so a test can check that a linked image is the one
downloaded for that sample's url.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image


def picture(url: str) -> bytes:
    """A small JPEG that differs for every url (colour and size from its hash)."""
    h = hashlib.sha256(url.encode()).digest()
    buf = io.BytesIO()
    Image.new("RGB", (8 + h[0] % 8, 6 + h[1] % 8), (h[2], h[3], h[4])).save(buf, format="JPEG")
    return buf.getvalue()


@dataclass
class Output:
    """What was written: url -> bytes downloaded, and the failed urls."""

    folder: Path
    downloaded: dict[str, bytes] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    keys: dict[str, str] = field(default_factory=dict)


def write_output(
    folder: Path,
    fmt: str,
    rows: list[tuple[str, str]],
    failed: set[int] = frozenset(),  # type: ignore[assignment]
    shard_size: int = 4,
    first_shard: int = 0,
) -> Output:
    """One img2dataset output folder holding ``rows`` (url, caption); indices in
    ``failed`` are failed downloads."""
    folder.mkdir(parents=True, exist_ok=True)
    out = Output(folder)
    for start in range(0, len(rows), shard_size):
        shard = first_shard + start // shard_size
        _shard(folder, fmt, shard, rows[start : start + shard_size], start, failed, out)
    return out


def _shard(
    folder: Path,
    fmt: str,
    shard: int,
    rows: list[tuple[str, str]],
    offset: int,
    failed: set[int],
    out: Output,
) -> None:
    name = f"{shard:05d}"
    records = []
    members: dict[str, bytes] = {}
    for i, (url, caption) in enumerate(rows):
        key = f"{name}{i:04d}"
        out.keys[url] = key
        ok = offset + i not in failed
        data = picture(url) if ok else None
        record = {
            "key": key,
            "url": url,
            "caption": caption,
            "status": "success" if ok else "failed_to_download",
            "error_message": None if ok else "HTTP Error 404",
            "width": 8 if ok else None,
            "height": 6 if ok else None,
            "original_width": 800 if ok else None,
            "original_height": 600 if ok else None,
            "md5": hashlib.md5(data).hexdigest() if data else None,
        }
        records.append(record)
        if data is None:
            out.failed.add(url)
            continue
        out.downloaded[url] = data
        members[f"{key}.jpg"] = data
        members[f"{key}.txt"] = caption.encode()
        members[f"{key}.json"] = json.dumps(record).encode()
    table = pa.Table.from_pylist(records)
    if fmt == "parquet":
        cells = [members.get(f"{r['key']}.jpg") for r in records]
        table = table.append_column("jpg", pa.array(cells, pa.binary()))
    pq.write_table(table, folder / f"{name}.parquet")
    (folder / f"{name}_stats.json").write_text(json.dumps({"count": len(rows)}))
    if fmt == "files":
        (folder / name).mkdir()
        for member, data in members.items():
            (folder / name / member).write_bytes(data)
    elif fmt == "webdataset":
        with tarfile.open(folder / f"{name}.tar", "w") as tar:
            for member, data in members.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def laion_meta(rows: list[tuple[str, str]], first_id: int) -> pa.Table:
    """LAION-400M-shaped metadata for ``rows``: 9-digit numeric SAMPLE_IDs from ``first_id``."""
    n = len(rows)
    return pa.table(
        {
            "SAMPLE_ID": pa.array(range(first_id, first_id + n), pa.int64()),
            "URL": [u for u, _ in rows],
            "TEXT": [c for _, c in rows],
            "NSFW": ["UNLIKELY"] * n,
        }
    )
