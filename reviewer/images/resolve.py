"""Finding and decoding a sample's image: local folder, tar shard, or URL fetch.

``samples.image_ref`` is ``"<root_id>:<member>"`` where ``image_roots.root_id``
names a folder (kind ``dir``; member is a relative path inside it) or a
webdataset tar shard (kind ``tar``; member is the tar member name) or an
img2dataset parquet shard (kind ``parquet``; member is the 0-based row whose
image cell is read on demand, never copied). A NULL
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

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from reviewer.errors import ImageUnavailableError
from reviewer.images.decode import decode_image
from reviewer.images.fetch import NO_LOCAL, NOT_REVEALED, cache_path, fetch_image, fetch_mode

if TYPE_CHECKING:
    from reviewer.audit import Audit

_lock = threading.Lock()
_roots: dict[Path, dict[int, tuple[str, str]]] = {}
_tar_indexes: dict[tuple[str, int, int], dict[str, tuple[int, int]]] = {}
_modes: dict[tuple[Path, str], str] = {}


def load_image(
    audit: Audit,
    sample: dict[str, Any],
    fit_px: int | None = None,
    min_side: int | None = None,
    revealed: bool = False,
) -> Image.Image:
    """Decode the sample's image, fully loaded, in RGB.

    ``fit_px`` / ``min_side``: the caller only needs the image fitted into that box
    (previews) or with its shortest side at least that (CLIP), so a JPEG may be
    decoded at a reduced scale (see :func:`decode_image`). ``revealed``: a reviewer
    revealed this item, which lets ``on-reveal`` mode fetch it from its URL.

    Raises:
        ImageUnavailableError: with a short ``reason`` for the reviewer
            ("no image", "no local image", "not fetched until revealed", "404",
            "timeout", "not an image", "too large", "corrupt", "outside its root").
    """
    settings = audit.settings.images
    ref = sample.get("image_ref")
    if ref:
        data = read_local(audit, str(ref), settings.fetch_max_bytes)
    elif sample.get("url"):
        target = cache_path(audit.paths.images_cache, str(sample.get("sample_id") or ""))
        if target.is_file():
            data = target.read_bytes()  # fetched earlier: no server is contacted
        else:
            mode = active_fetch_mode(audit)
            if mode == "never":
                raise ImageUnavailableError(NO_LOCAL)
            if mode == "on-reveal" and not revealed:
                raise ImageUnavailableError(NOT_REVEALED)
            data = fetch_image(str(sample["url"]), target, settings)
    else:
        raise ImageUnavailableError("no image")
    return decode_image(data, settings.max_pixels, fit_px, min_side)


def active_fetch_mode(audit: Audit) -> str:
    """The audit's fetch mode (:func:`~reviewer.images.fetch.fetch_mode`), looked up once."""
    setting = audit.settings.images.fetch
    key = (audit.paths.database, setting)
    with _lock:
        mode = _modes.get(key)
    if mode is None:
        local = setting == "" and audit.store.images.any_local()
        mode = fetch_mode(setting, local)
        with _lock:
            _modes[key] = mode
    return mode


def read_local(audit: Audit, ref: str, max_bytes: int) -> bytes:
    """The bytes behind an ``image_ref``, refusing anything outside its root."""
    root_text, sep, member = ref.partition(":")
    if not sep or not root_text.isdigit():
        raise ImageUnavailableError("no image", f"image unavailable (bad image_ref {ref!r})")
    root = _root(audit, int(root_text))
    if root is None:
        raise ImageUnavailableError("no image", f"image unavailable (unknown root {root_text})")
    path, kind = root
    return read_member(Path(path), kind, member, max_bytes)


def read_member(path: Path, kind: str, member: str, max_bytes: int) -> bytes:
    """The bytes of ``member`` in an image root of ``kind`` ``dir``, ``tar`` or ``parquet``."""
    if kind == "tar":
        return read_tar_member(path, member, max_bytes)
    if kind == "parquet":
        return read_parquet_row(path, member, max_bytes)
    return read_file_under(path, member, max_bytes)


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


IMAGE_BYTES_COLUMNS = ("jpg", "jpeg", "png", "webp", "image")
"""Binary columns of an img2dataset ``--output_format parquet`` shard that hold the image."""


def image_bytes_column(schema: pa.Schema) -> str | None:
    """The column of a parquet schema holding encoded images (img2dataset parquet output)."""
    for field in schema:
        binary = pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
        if binary and field.name.lower() in IMAGE_BYTES_COLUMNS:
            return str(field.name)
    return None


def read_parquet_row(path: Path, member: str, max_bytes: int) -> bytes:
    """The image cell of row ``member`` (0-based) of an img2dataset parquet shard.

    Only the row group holding the row is read, in small batches, so memory stays
    bounded by one batch of images whatever the shard's size.
    """
    if not member.isdigit():
        raise ImageUnavailableError("no image", f"image unavailable (bad parquet row {member!r})")
    row = int(member)
    try:
        pf = pq.ParquetFile(path, pre_buffer=False)
        column = image_bytes_column(pf.schema_arrow)
        if column is None:
            raise ImageUnavailableError("no image", f"image unavailable ({path}: no image column)")
        first = 0
        for group in range(pf.metadata.num_row_groups):
            rows = pf.metadata.row_group(group).num_rows
            if row < first + rows:
                return _cell_in_group(pf, group, column, row - first, max_bytes)
            first += rows
    except FileNotFoundError as exc:
        raise ImageUnavailableError("no image", f"image unavailable ({path} missing)") from exc
    except (pa.ArrowException, OSError) as exc:
        raise ImageUnavailableError("corrupt", f"image unavailable (unreadable {path})") from exc
    raise ImageUnavailableError("no image")


def _cell_in_group(
    pf: pq.ParquetFile, group: int, column: str, offset: int, max_bytes: int
) -> bytes:
    seen = 0
    for batch in pf.iter_batches(batch_size=16, row_groups=[group], columns=[column]):
        if offset < seen + batch.num_rows:
            value = batch.column(0)[offset - seen].as_py()
            if value is None:
                raise ImageUnavailableError("no image")
            if len(value) > max_bytes:
                raise ImageUnavailableError("too large")
            return bytes(value)
        seen += batch.num_rows
    raise ImageUnavailableError("no image")


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
        _modes.clear()
