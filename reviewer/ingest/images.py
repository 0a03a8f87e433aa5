"""Linking samples to local images at ingest time: ``image_ref = "<root_id>:<member>"``.

Images are never copied or decoded here; ingest only records where they are.
Matching is by img2dataset ``key`` (the file stem), then by URL (from the
img2dataset parquet or ``.json`` sidecars), then by ``sample_id``. Paths given
in metadata must stay inside their root: ``../`` escapes are refused and counted.
"""

from __future__ import annotations

import json
import os
import posixpath
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from reviewer.ingest.sources import IMAGE_SUFFIXES


def list_images(path: Path, kind: str) -> dict[str, str]:
    """Image members of a folder (recursive, relative paths) or tar shard, by key (stem)."""
    found: dict[str, str] = {}
    if kind == "tar":
        try:
            with tarfile.open(path, "r:*") as tar:
                names = [m.name for m in tar.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ReviewerError(f"{path}: unreadable tar shard ({exc})", "fetch it again") from exc
    else:
        names = []
        for folder, _dirs, files in os.walk(path):
            rel = os.path.relpath(folder, path)
            names.extend(f if rel == "." else f"{rel}/{f}" for f in files)
    for name in sorted(names):
        base = name.rpartition("/")[2]
        stem, dot, ext = base.partition(".")
        if dot and f".{ext.lower()}" in IMAGE_SUFFIXES:
            found.setdefault(stem, name)
    return found


def safe_member(member: str) -> str | None:
    """The member as a normalised relative path, or ``None`` if it would leave its root."""
    if not member or member.startswith(("/", "\\")) or "\x00" in member:
        return None
    norm = posixpath.normpath(member.replace("\\", "/"))
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


@dataclass
class ImageIndex:
    """Local images known before ingest (``--images PATH``): refs by key and by URL."""

    by_key: dict[str, str] = field(default_factory=dict)
    by_url: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def add_root(self, root_id: int, path: Path, kind: str) -> None:
        """Index the images of one folder or tar shard under ``root_id``."""
        for key, member in list_images(path, kind).items():
            self.by_key.setdefault(key, f"{root_id}:{member}")

    def add_urls(self, path: Path) -> None:
        """URL -> ref from img2dataset parquet files, else from ``.json`` sidecars."""
        parquets = sorted(path.rglob("*.parquet"))
        for parquet in parquets:
            try:
                table = pq.read_table(parquet, columns=["key", "url"])
            except (pa.ArrowException, OSError, KeyError):
                continue
            for key, url in zip(
                table.column("key").to_pylist(), table.column("url").to_pylist(), strict=True
            ):
                ref = self.by_key.get(str(key))
                if ref and url:
                    self.by_url.setdefault(url, ref)
        if parquets:
            return
        for sidecar in sorted(path.rglob("*.json")):
            ref = self.by_key.get(sidecar.name.partition(".")[0])
            if ref is None:
                continue
            try:
                url = json.loads(sidecar.read_text(encoding="utf-8", errors="replace")).get("url")
            except (ValueError, AttributeError, OSError):
                continue
            if isinstance(url, str):
                self.by_url.setdefault(url, ref)

    def lookup(self, key: str | None, url: str | None, sample_id: str | None) -> str | None:
        """The ref of a sample's image, or ``None``."""
        if key is not None and key in self.by_key:
            return self.by_key[key]
        if url is not None and url in self.by_url:
            return self.by_url[url]
        if sample_id is not None:
            return self.by_key.get(sample_id)
        return None


def build_index(images: Path, roots: list[tuple[int, Path, str]]) -> ImageIndex:
    """Index the roots registered for ``--images PATH``."""
    index = ImageIndex()
    for root_id, path, kind in roots:
        index.add_root(root_id, path, kind)
    for _, path, kind in roots:
        if kind == "dir":
            index.add_urls(path)  # after every root: URLs may point at images in tars
    if not index:
        raise ReviewerError(
            f"{images}: no images found (.jpg, .png, .webp ...)",
            "point --images at an img2dataset output folder or webdataset .tar shards",
        )
    return index


def image_roots_of(images: Path) -> list[tuple[Path, str]]:
    """The roots behind ``--images PATH``: the folder itself and any tar shards in it."""
    images = images.expanduser().resolve()
    if not images.exists():
        raise ReviewerError(f"{images}: no such file or folder", "check --images")
    if images.is_file():
        return [(images, "tar")]
    tars = sorted(p for p in images.rglob("*.tar") if p.is_file())
    return [(images, "dir"), *((t, "tar") for t in tars)]
