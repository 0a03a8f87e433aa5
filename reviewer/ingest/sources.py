"""What the user pointed at: files, folders and globs, expanded into ingest units.

One *unit* is one thing recorded in ``ingested_files``: a metadata file (parquet,
CSV, TSV), a webdataset tar shard read through its ``.txt``/``.json`` members,
or a folder of images with sidecars. An img2dataset shard (``00000.parquet``
beside ``00000/`` or ``00000.tar``) is one unit whose images live in that
sibling folder or tar.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from reviewer.images.resolve import image_bytes_column

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
METADATA_SUFFIXES = (".parquet", ".csv", ".tsv")
TAR_SUFFIXES = (".tar",)


@dataclass(frozen=True)
class Unit:
    """One source to ingest.

    Attributes:
        path: The file or folder.
        kind: ``parquet``, ``csv``, ``tsv``, ``tar`` (webdataset shard) or
            ``sidecars`` (folder of images with ``.txt``/``.json`` files).
        image_root: Where this unit's images are, as ``(path, kind)`` with kind
            ``dir`` or ``tar``, or ``None``.
    """

    path: Path
    kind: str
    image_root: tuple[Path, str] | None = None


def expand_sources(sources: list[str]) -> list[Unit]:
    """Expand files, folders and globs into units, in a stable order.

    Raises:
        ReviewerError: A source does not exist, a glob matches nothing, or
            nothing ingestible was found.
    """
    units: list[Unit] = []
    for source in sources:
        units.extend(_expand_one(source))
    unique = list({u.path: u for u in reversed(units)}.values())[::-1]  # first wins
    if not unique:
        raise ReviewerError(
            f"{', '.join(sources)}: nothing to ingest found",
            "point at .parquet, .csv, .tsv or .tar files, or an img2dataset output folder",
        )
    return unique


def _expand_one(source: str) -> list[Unit]:
    if any(ch in source for ch in "*?[") and not Path(source).exists():
        matches = sorted(glob.glob(source, recursive=True))
        if not matches:
            raise ReviewerError(f"{source}: the pattern matches no file", "check the pattern")
        units: list[Unit] = []
        for match in matches:
            units.extend(_expand_path(Path(match), explicit=False))
        return units
    path = Path(source).expanduser()
    if not path.exists():
        raise ReviewerError(f"{path}: no such file or folder", "check the path")
    return _expand_path(path, explicit=True)


def _expand_path(path: Path, explicit: bool) -> list[Unit]:
    path = path.resolve()
    if path.is_dir():
        return scan_folder(path)
    suffix = path.suffix.lower()
    if suffix in METADATA_SUFFIXES:
        return [Unit(path, suffix.lstrip("."), shard_container(path))]
    if suffix in TAR_SUFFIXES:
        return [Unit(path, "tar", (path, "tar"))]
    if explicit:
        # Let the reader say what is wrong with it (e.g. "not a parquet file").
        return [Unit(path, "parquet")]
    return []


def shard_container(parquet: Path) -> tuple[Path, str] | None:
    """Where an img2dataset shard parquet's images are: the sibling folder (``files``),
    the sibling tar (``webdataset``) or its own image cells (``parquet`` output)."""
    folder = parquet.with_suffix("")
    if folder.is_dir():
        return (folder, "dir")
    tar = parquet.with_suffix(".tar")
    if tar.is_file():
        return (tar, "tar")
    if parquet.suffix.lower() != ".parquet":
        return None
    try:
        if image_bytes_column(pq.read_schema(parquet)) is not None:
            return (parquet, "parquet")
    except (pa.ArrowException, OSError):
        return None  # the reader says what is wrong with the file
    return None


def scan_folder(root: Path) -> list[Unit]:
    """Every unit under ``root``: metadata files, unclaimed tars, image folders."""
    units: list[Unit] = []
    claimed: set[Path] = set()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        for name in sorted(files):
            path = here / name
            if path.suffix.lower() in METADATA_SUFFIXES:
                images = shard_container(path)
                if images and images[1] != "parquet":
                    claimed.add(images[0])
                units.append(Unit(path, path.suffix.lower().lstrip("."), images))
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        if any(here == c or c in here.parents for c in claimed if c.is_dir()):
            continue
        for name in sorted(files):
            path = here / name
            if path.suffix.lower() in TAR_SUFFIXES and path not in claimed:
                units.append(Unit(path, "tar", (path, "tar")))
        if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files) and any(
            Path(f).suffix.lower() in (".txt", ".json") for f in files
        ):
            units.append(Unit(here, "sidecars", (here, "dir")))
    return units


def fingerprint(path: Path) -> tuple[int, str]:
    """Size and a hash of the whole content (xxh3-128, streamed in 1 MiB chunks).

    A file is "already ingested" only when its whole content is: two files that
    share size and head and tail but differ in the middle are different files.
    For a folder of images with sidecars: names, sizes and the sidecars' content.

    Raises:
        ReviewerError: The file cannot be read.
    """
    import xxhash

    digest = xxhash.xxh3_128()
    try:
        if path.is_dir():
            size = 0
            for entry in sorted(os.scandir(path), key=lambda e: e.name):
                if entry.is_file():
                    st = entry.stat()
                    size += st.st_size
                    digest.update(f"{entry.name}\0{st.st_size}\n".encode())
                    if not entry.name.lower().endswith(IMAGE_SUFFIXES):
                        _hash_file(Path(entry.path), digest)
            return size, f"xxh3:{digest.hexdigest()}"
        size = _hash_file(path, digest)
        return size, f"xxh3:{digest.hexdigest()}"
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc


def _hash_file(path: Path, digest: Any) -> int:
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size
