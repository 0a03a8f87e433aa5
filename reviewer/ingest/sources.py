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

from reviewer.errors import ReviewerError

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
        return [Unit(path, suffix.lstrip("."), _shard_images(path))]
    if suffix in TAR_SUFFIXES:
        return [Unit(path, "tar", (path, "tar"))]
    if explicit:
        # Let the reader say what is wrong with it (e.g. "not a parquet file").
        return [Unit(path, "parquet")]
    return []


def _shard_images(path: Path) -> tuple[Path, str] | None:
    """An img2dataset shard's image folder or tar beside its parquet, if present."""
    folder = path.with_suffix("")
    if folder.is_dir():
        return (folder, "dir")
    tar = path.with_suffix(".tar")
    if tar.is_file():
        return (tar, "tar")
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
                images = _shard_images(path)
                if images:
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
    """Size and a cheap content fingerprint (first and last 64 KiB, or a folder listing).

    Raises:
        ReviewerError: The file cannot be read.
    """
    import hashlib

    digest = hashlib.sha256()
    try:
        if path.is_dir():
            size = 0
            for entry in sorted(os.scandir(path), key=lambda e: e.name):
                if entry.is_file():
                    st = entry.stat()
                    size += st.st_size
                    digest.update(f"{entry.name}\0{st.st_size}\n".encode())
            return size, digest.hexdigest()
        size = path.stat().st_size
        with path.open("rb") as fh:
            digest.update(fh.read(65_536))
            if size > 65_536:
                fh.seek(max(65_536, size - 65_536))
                digest.update(fh.read(65_536))
        digest.update(str(size).encode())
        return size, digest.hexdigest()
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc
