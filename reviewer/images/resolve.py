"""Finding and decoding a sample's image: local folder, tar shard, or URL fetch.

``samples.image_ref`` is ``"<root_id>:<member>"`` where ``image_roots.root_id``
names a folder (kind ``dir``; member is a relative path inside it) or a
webdataset tar shard (kind ``tar``; member is the tar member name). A NULL
``image_ref`` with a ``url`` means the image is fetched on demand into
``cache/images/`` (sampled items only).

:func:`load_image` is called from TUI worker threads: it keeps no database
connection open (image roots are read once per audit with a short query and
cached), and tar members are read with a private file handle per call.
"""

from __future__ import annotations

import io
import tarfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from reviewer.errors import ImageUnavailableError
from reviewer.images.decode import decode_image
from reviewer.images.fetch import cache_path, fetch_image

if TYPE_CHECKING:
    from reviewer.audit import Audit

_lock = threading.Lock()
_roots: dict[Path, dict[int, tuple[str, str]]] = {}
_tar_indexes: dict[tuple[str, int, int], dict[str, tuple[int, int]]] = {}


def load_image(
    audit: Audit, sample: dict[str, Any], fit_px: int | None = None, min_side: int | None = None
) -> Image.Image:
    """Decode the sample's image, fully loaded, in RGB.

    ``fit_px`` / ``min_side``: the caller only needs the image fitted into that box
    (previews) or with its shortest side at least that (CLIP), so a JPEG may be
    decoded at a reduced scale (see :func:`decode_image`).

    Raises:
        ImageUnavailableError: with a short ``reason`` for the reviewer
            ("no image", "404", "timeout", "not an image", "too large", "corrupt",
            "outside its root").
    """
    settings = audit.settings.images
    ref = sample.get("image_ref")
    if ref:
        data = read_local(audit, str(ref), settings.fetch_max_bytes)
    elif sample.get("url"):
        target = cache_path(audit.paths.images_cache, str(sample.get("sample_id") or ""))
        data = fetch_image(str(sample["url"]), target, settings)
    else:
        raise ImageUnavailableError("no image")
    return decode_image(data, settings.max_pixels, fit_px, min_side)


def read_local(audit: Audit, ref: str, max_bytes: int) -> bytes:
    """The bytes behind an ``image_ref``, refusing anything outside its root."""
    root_text, sep, member = ref.partition(":")
    if not sep or not root_text.isdigit():
        raise ImageUnavailableError("no image", f"image unavailable (bad image_ref {ref!r})")
    root = _root(audit, int(root_text))
    if root is None:
        raise ImageUnavailableError("no image", f"image unavailable (unknown root {root_text})")
    path, kind = root
    if kind == "tar":
        return read_tar_member(Path(path), member, max_bytes)
    return read_file_under(Path(path), member, max_bytes)


def _root(audit: Audit, root_id: int) -> tuple[str, str] | None:
    """An image root by id; roots are cached per audit and re-read on a miss."""
    key = audit.paths.database
    with _lock:
        roots = _roots.get(key)
    if roots is None or root_id not in roots:
        roots = audit.store.ingest.image_roots()
        with _lock:
            _roots[key] = roots
    return roots.get(root_id)


def read_file_under(root: Path, member: str, max_bytes: int) -> bytes:
    """Read ``root/member``; refuse ``../`` and symlinks that lead out of ``root``.

    Raises:
        ImageUnavailableError: ``outside its root``, ``no image`` or ``too large``.
    """
    base = root.resolve()
    target = (base / member).resolve()
    if member.startswith("/") or not target.is_relative_to(base):
        raise ImageUnavailableError("outside its root")
    try:
        if target.stat().st_size > max_bytes:
            raise ImageUnavailableError("too large")
        return target.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ImageUnavailableError("no image") from exc
    except OSError as exc:
        raise ImageUnavailableError("unreadable") from exc


def read_tar_member(path: Path, member: str, max_bytes: int) -> bytes:
    """Read one member of a tar shard without unpacking the shard.

    Uncompressed shards are indexed once (member -> offset, size) and read with a
    seek; compressed ones go through :mod:`tarfile`.
    """
    try:
        stat = path.stat()
        key = (str(path), stat.st_size, int(stat.st_mtime_ns))
        with _lock:
            index = _tar_indexes.get(key)
        if index is None:
            index = _index_tar(path)
            with _lock:
                _tar_indexes[key] = index
        if member not in index:
            raise ImageUnavailableError("no image")
        offset, size = index[member]
        if size > max_bytes:
            raise ImageUnavailableError("too large")
        if offset < 0:
            return _read_compressed(path, member)
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read(size)
    except FileNotFoundError as exc:
        raise ImageUnavailableError(
            "no image", f"image unavailable (shard {path} missing)"
        ) from exc
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ImageUnavailableError(
            "corrupt", f"image unavailable (unreadable shard {path})"
        ) from exc


def _index_tar(path: Path) -> dict[str, tuple[int, int]]:
    with tarfile.open(path, "r:*") as tar:
        compressed = not isinstance(tar.fileobj, io.BufferedReader)
        return {
            m.name: (-1 if compressed else m.offset_data, m.size)
            for m in tar.getmembers()
            if m.isfile()
        }


def _read_compressed(path: Path, member: str) -> bytes:
    with tarfile.open(path, "r:*") as tar:
        fh = tar.extractfile(member)
        if fh is None:
            raise ImageUnavailableError("no image")
        return fh.read()


def forget_roots() -> None:
    """Drop cached image roots and tar indexes (tests, or after re-ingest)."""
    with _lock:
        _roots.clear()
        _tar_indexes.clear()
