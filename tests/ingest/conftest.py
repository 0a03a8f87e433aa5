"""Builders of small source files in every layout ingest reads."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from reviewer.audit import Audit
from reviewer.images import resolve
from tests.ingest.http_origin import HttpHandler


def png_bytes(
    size: tuple[int, int] = (8, 6), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def laion400m_table(n: int, start: int = 0) -> pa.Table:
    """A LAION-400M-shaped table: upper-case names, int SAMPLE_ID, float WIDTH/HEIGHT."""
    return pa.table(
        {
            "SAMPLE_ID": pa.array(range(start, start + n), pa.int64()),
            "URL": [f"https://example.org/{i}.jpg" for i in range(start, start + n)],
            "TEXT": [f"caption {i}" for i in range(start, start + n)],
            "HEIGHT": pa.array([float(i % 7 + 1) for i in range(n)], pa.float64()),
            "WIDTH": pa.array([float(i % 5 + 1) for i in range(n)], pa.float64()),
            "LICENSE": ["?"] * n,
            "NSFW": [("UNLIKELY", "UNSURE", "NSFW")[i % 3] for i in range(n)],
            "similarity": [0.31] * n,
        }
    )


def write_parquet(path: Path, table: pa.Table, row_group_size: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def img2dataset_shard(folder: Path, shard: str, n: int, as_tar: bool, parquet: bool = True) -> None:
    """An img2dataset output shard: images + .txt/.json sidecars, in a folder or a tar."""
    files: dict[str, bytes] = {}
    rows: list[dict[str, Any]] = []
    for i in range(n):
        key = f"{shard}{i:04d}"
        url = f"https://img.example/{key}.png"
        meta = {"key": key, "url": url, "caption": f"json caption {key}", "status": "success"}
        files[f"{key}.png"] = png_bytes(colour=(i * 20 % 255, 10, 10))
        files[f"{key}.txt"] = f"caption of {key}".encode()
        files[f"{key}.json"] = json.dumps(meta).encode()
        rows.append(
            {
                "key": key,
                "url": url,
                "caption": f"caption of {key}",
                "status": "success",
                "error_message": None,
                "width": 8,
                "height": 6,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    if as_tar:
        with tarfile.open(folder / f"{shard}.tar", "w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        (folder / shard).mkdir()
        for name, data in files.items():
            (folder / shard / name).write_bytes(data)
    if parquet:
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{shard}.parquet")


def rows_of(audit: Audit, order: str = "source_file, source_row") -> list[dict[str, Any]]:
    return audit.store.query(f"SELECT * FROM samples ORDER BY {order}").to_pylist()


@pytest.fixture(autouse=True)
def _fresh_image_roots() -> None:
    """Image roots are cached per database path; tmp paths differ, but be explicit."""
    resolve.forget_roots()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), HttpHandler)
    httpd.daemon_threads = True
    HttpHandler.release.clear()
    HttpHandler.hits.clear()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    HttpHandler.release.set()
    httpd.shutdown()
    httpd.server_close()
