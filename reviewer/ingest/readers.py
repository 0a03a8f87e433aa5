"""Streaming readers: every source yields Arrow batches of bounded size.

Parquet is read row group by row group (``iter_batches``), CSV/TSV block by
block (``open_csv``), and tar shards member by member, so memory does not grow
with the file. Readers raise :class:`ReviewerError` naming the file; the caller
adds the row reached.
"""

from __future__ import annotations

import csv
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError, first_line
from reviewer.images.resolve import image_bytes_column
from reviewer.ingest.sources import IMAGE_SUFFIXES, Unit

BATCH_ROWS = 65_536
MEMBER_COLUMN = "__image_member__"
"""Pseudo column of tar / sidecar rows: the image's member name inside its root."""


@dataclass
class Reader:
    """An opened source: its column names, row count if known, and its batches."""

    columns: list[str]
    total: int | None
    batches: Iterator[pa.RecordBatch | pa.Table]


def open_reader(unit: Unit) -> Reader:
    """Open a unit for streaming.

    Raises:
        ReviewerError: Not the format its name says, truncated, unreadable.
    """
    if unit.kind == "parquet":
        return _parquet(unit.path)
    if unit.kind in ("csv", "tsv"):
        return _csv(unit.path, "\t" if unit.kind == "tsv" else ",")
    if unit.kind == "tar":
        return _rows_reader(_tar_entries(unit.path))
    return _rows_reader(_folder_entries(unit.path))


def _parquet(path: Path) -> Reader:
    _check_parquet_magic(path)
    try:
        pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering grows RSS with the file
        image_column = image_bytes_column(pf.schema_arrow)  # read on demand, never stored
        columns = [c for c in pf.schema_arrow.names if c != image_column]
        total = pf.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise ReviewerError(
            f"{path}: unreadable parquet ({first_line(exc, 200)})",
            "re-download or re-export the file",
        ) from exc
    return Reader(columns, total, pf.iter_batches(batch_size=BATCH_ROWS, columns=columns))


def _check_parquet_magic(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4)
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc
    if head != b"PAR1":
        raise ReviewerError(
            f"{path}: not a parquet file",
            "give .parquet, .csv, .tsv or .tar files (a CSV needs the .csv suffix)",
        )
    if tail != b"PAR1" or size < 12:
        raise ReviewerError(
            f"{path}: truncated parquet (the file ends before its footer)",
            "the download or copy was cut short: fetch the file again",
        )


def _csv(path: Path, delimiter: str) -> Reader:
    try:
        with path.open("rb") as fh:
            first = fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc
    names = next(csv.reader([first], delimiter=delimiter), [])
    if not names:
        raise ReviewerError(f"{path}: empty file or no header line", "add a header line")
    check_csv(path, delimiter, len(names))
    try:
        stream = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                check_utf8=False,
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError) as exc:
        raise ReviewerError(
            f"{path}: unreadable CSV ({first_line(exc, 200)})", "check the file"
        ) from exc
    return Reader(names, None, iter(stream))


def check_csv(path: Path, delimiter: str, width: int) -> None:
    """Refuse a CSV that does not parse cleanly, naming the line.

    Arrow's reader, given ``newlines_in_values``, reads an unterminated quote as
    one field running to the end of the file: the rest of the file would become
    one caption, silently. Python's strict CSV parser (in C) finds it, and rows
    with more or fewer fields than the header, in one streaming pass.

    Raises:
        ReviewerError: naming the line where the bad record starts.
    """
    csv.field_size_limit(2**31 - 1)  # captions may be long; they are counted later
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            start = 1
            for row in reader:
                if row and len(row) != width:
                    raise ReviewerError(
                        f"{path}: line {start} has {len(row)} field(s), the header has {width}",
                        "quote fields that contain the delimiter; nothing of this file was"
                        " ingested",
                    )
                start = reader.line_num + 1
    except csv.Error as exc:
        raise ReviewerError(
            f"{path}: bad CSV in the record starting on line {start} ({exc})",
            "a quote is never closed or is misplaced: fix that line; nothing of this file"
            " was ingested",
        ) from exc
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc


def _rows_reader(entries: Iterator[dict[str, Any]]) -> Reader:
    """Batches from a stream of per-sample dicts (tar shards, sidecar folders)."""

    def batches() -> Iterator[pa.Table]:
        chunk: list[dict[str, Any]] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= BATCH_ROWS // 8:
                yield _table(chunk)
                chunk = []
        if chunk:
            yield _table(chunk)

    return Reader(["key", "caption", "url", MEMBER_COLUMN], None, batches())


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {n: [_cell(row.get(n)) for row in rows] for n in names}
    return pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()})


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _group(names: list[str]) -> dict[str, dict[str, str]]:
    """Group member names by webdataset key: ``dir/key.ext`` -> key ``dir/key``."""
    groups: dict[str, dict[str, str]] = {}
    for name in names:
        head, _, base = name.rpartition("/")
        stem, dot, ext = base.partition(".")
        if not dot:
            continue
        key = f"{head}/{stem}" if head else stem
        groups.setdefault(key, {})[ext.lower()] = name
    return groups


def _entry(key: str, parts: dict[str, str], read: Any) -> dict[str, Any] | None:
    image = next((parts[e] for e in parts if f".{e}" in IMAGE_SUFFIXES), None)
    if image is None and "txt" not in parts and "json" not in parts:
        return None
    entry: dict[str, Any] = {"key": key.rpartition("/")[2]}
    if "json" in parts:
        try:
            meta = json.loads(read(parts["json"]).decode("utf-8", errors="replace"))
        except ValueError:
            meta = {}
        if isinstance(meta, dict):
            entry.update({k: v for k, v in meta.items() if k not in ("key",)})
            if meta.get("status") not in (None, "success"):
                image = None  # img2dataset's record says the download failed
    if "txt" in parts:
        entry["caption"] = read(parts["txt"]).decode("utf-8", errors="replace")
    entry.setdefault("caption", None)
    entry[MEMBER_COLUMN] = image
    return entry


def _tar_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Samples of a webdataset shard; only the small text members are read."""
    try:
        with tarfile.open(path, "r:*") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                fh = tar.extractfile(members[name])
                return fh.read() if fh is not None else b""

            for key, parts in _group(list(members)).items():
                entry = _entry(key, parts, read)
                if entry is not None:
                    yield entry
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ReviewerError(
            f"{path}: unreadable tar shard ({first_line(exc, 200)})", "fetch the shard again"
        ) from exc


def _folder_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Samples of an img2dataset ``files`` folder: ``{key}.jpg`` + ``{key}.txt/.json``."""
    names = sorted(e.name for e in os.scandir(path) if e.is_file())
    for key, parts in _group(names).items():
        entry = _entry(key, parts, lambda n: (path / n).read_bytes())
        if entry is not None:
            yield entry
