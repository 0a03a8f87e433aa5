"""Ingest: stream each source into the audit, one transaction per file.

A file is either ingested whole or not at all: a plain parquet file is copied by
DuckDB straight into ``samples`` (the direct path, :mod:`reviewer.ingest.direct`);
any other file's batches are normalised in Python and staged (see
:mod:`reviewer.store.ingested`). Either way duplicates are skipped and the rows
copied into ``samples`` in one transaction; a read error (truncated parquet, bad
CSV) leaves ``samples`` as it was, while files ingested before it stay. A file
already ingested (same size and fingerprint) adds nothing.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from reviewer.errors import ReviewerError, first_line
from reviewer.ingest import direct
from reviewer.ingest.attach import AttachReport, attach_images
from reviewer.ingest.columns import ColumnMap, has_id_column, map_columns
from reviewer.ingest.evidence import LinkCounts, Record, Shard, shard_records
from reviewer.ingest.images import safe_member
from reviewer.ingest.normalize import BatchContext, Warnings, normalize
from reviewer.ingest.readers import MEMBER_COLUMN, Reader, open_reader
from reviewer.ingest.sources import Unit, expand_sources, fingerprint
from reviewer.store.direct_ingest import DirectFallback, DirectFile, DirectPublisher
from reviewer.store.ingested import FileStage, IdSummary, StageResult, may_hold_ids

if TYPE_CHECKING:
    from reviewer.store import Store

ProgressCallback = Callable[[int, int | None], None]


@dataclass
class FileReport:
    """The outcome of one source file."""

    path: Path
    kind: str
    dataset: str = ""
    flavour: str = ""
    rows_read: int = 0
    inserted: int = 0
    skipped: str | None = None
    route: str = ""
    """``direct`` (DuckDB read the parquet file itself) or ``staged``; empty when skipped."""
    warnings: Warnings = field(default_factory=Warnings)
    links: LinkCounts = field(default_factory=LinkCounts)


@dataclass
class IngestReport:
    """The outcome of one ``reviewer ingest``."""

    files: list[FileReport] = field(default_factory=list)
    attached: AttachReport | None = None

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def warnings(self) -> int:
        return sum(f.warnings.total for f in self.files)

    @property
    def links(self) -> LinkCounts:
        """Image link outcomes of the files' own shards, summed."""
        total = LinkCounts()
        for f in self.files:
            total.merge(f.links)
        return total


@dataclass
class _Images:
    """Image linking state of one file: its own shard's records, or an ``image_path`` root."""

    shard_root: int | None = None
    records: dict[str, Record] | None = None
    path_root: int | None = None
    path_root_dir: Path | None = None


def ingest(
    store: Store,
    sources: list[str],
    dataset: str | None = None,
    images: Path | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest every source into ``store``; see the module docstring for the guarantees.

    Raises:
        ReviewerError: A source is missing or a file is unreadable; files
            ingested before the failing one are kept.
    """
    units = expand_sources(sources)
    if images is not None:
        images = images.expanduser().resolve()
        if not images.exists():
            raise ReviewerError(f"{images}: no such file or folder", "check --images")
    total = _total_rows(units)
    store.ingest.delete_stale_stages()  # the direct path stages nothing, but cleans up
    report = IngestReport()
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, total)

    for unit in units:
        report.files.append(_ingest_unit(store, unit, dataset, images, advance))
    if images is not None:
        report.attached = attach_images(store, images)
    return report


def _total_rows(units: list[Unit]) -> int | None:
    """Total rows when every unit is parquet (footers are cheap to read), else unknown."""
    if not all(u.kind == "parquet" for u in units):
        return None
    import pyarrow.parquet as pq

    try:
        return int(sum(pq.ParquetFile(u.path).metadata.num_rows for u in units))
    except (pa.ArrowException, OSError):
        return None


def infer_dataset(unit: Unit, flavour: str) -> str:
    """A dataset name from the file's layout and name, when ``--dataset`` is not given."""
    name = str(unit.path).lower()
    if flavour == "laion400m":
        return "laion400m"
    if flavour == "laion2b":
        for marker, ds in (
            ("2b-en", "laion2b-en"),
            ("2b-multi", "laion2b-multi"),
            ("1b-nolang", "laion1b-nolang"),
        ):
            if marker in name:
                return ds
        return "laion5b"
    if unit.kind in ("tar", "sidecars") or unit.image_root is not None or flavour == "img2dataset":
        return unit.path.parent.name or id_stem(unit.path)  # the output folder, not the shard
    return id_stem(unit.path)


_DATA_SUFFIXES = (".parquet", ".snappy", ".gz", ".zst", ".csv", ".tsv", ".tar")


def id_prefix(dataset: str, path: Path) -> str:
    """What a file's generated ids start with: ``{dataset}:{stem}``, then ``:{row}``."""
    return f"{dataset}:{id_stem(path)}"


def id_stem(path: Path) -> str:
    """A file's name without its data suffixes (``part-0.snappy.parquet`` -> ``part-0``)."""
    name = path.name
    while True:
        for suffix in _DATA_SUFFIXES:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        else:
            return name


def _ingest_unit(
    store: Store,
    unit: Unit,
    dataset: str | None,
    images: Path | None,
    advance: Callable[[int], None],
) -> FileReport:
    file_report = FileReport(unit.path, unit.kind)
    size, mtime_ns = _stat(unit.path)
    # Fast path for files (a folder's mtime misses edits inside it): same path, size and
    # modification time as a file whose whole-content hash was recorded at its ingest.
    if not unit.path.is_dir() and store.ingest.ingested_unchanged(str(unit.path), size, mtime_ns):
        file_report.skipped = "already ingested (same path, size and modification time)"
        return file_report
    size, fp = fingerprint(unit.path)
    previous = store.ingest.ingested_as(size, fp)
    if previous is not None:
        file_report.skipped = f"already ingested (as {previous})"
        return file_report
    reader = open_reader(unit)
    cmap = map_columns([c for c in reader.columns if c != MEMBER_COLUMN], unit.path)
    file_report.flavour = cmap.flavour
    file_report.dataset = ds = dataset or infer_dataset(unit, cmap.flavour)
    links = _links(store, unit, cmap, images)
    spec = (
        direct.plan(unit, cmap, ds, id_prefix(ds, unit.path))
        if links.shard_root is None and links.path_root is None
        else None
    )
    if spec is not None and _ingest_direct(
        store, spec, (size, fp, mtime_ns), reader.total or 0, file_report, advance
    ):
        return file_report
    file_report.route = "staged"
    with store.ingest.file_stage() as stage:
        file_report.rows_read, source_ids = _stage_file(
            unit, reader, cmap, ds, file_report, links, stage, advance
        )
        with store.ingest.publishing() as conn:
            previous = store.ingest.find_ingested(conn, size, fp)  # another process may have won
            if previous is not None:
                file_report.skipped = f"already ingested (as {previous})"
                return file_report
            unique = not source_ids
            ids = _generated_ids(unit, ds, file_report.rows_read) if unique else None
            result = stage.publish(
                conn,
                str(unit.path),
                unique_ids=unique,
                check_existing=may_hold_ids(conn, ids),
            )
            _count_duplicates(file_report.warnings, result)
            file_report.inserted = result.inserted
            store.ingest.record_ingested(
                conn,
                str(unit.path),
                size,
                fp,
                ds,
                result.inserted,
                file_report.warnings.total,
                mtime_ns,
                ids=ids,
            )
    return file_report


def _generated_ids(unit: Unit, dataset: str, rows: int) -> IdSummary | None:
    """The summary of a staged file's ids when all are generated (``{dataset}:{stem}:{row}``
    for rows ``0..rows-1``). Only for files with one set of columns: a tar shard's or
    sidecar folder's batches may bring a ``sample_id`` from their ``.json`` members."""
    if unit.kind not in ("parquet", "csv", "tsv") or rows <= 0:
        return None
    return IdSummary(f"{id_prefix(dataset, unit.path)}:", 0, rows - 1)


def _ingest_direct(
    store: Store,
    spec: DirectFile,
    identity: tuple[int, str, int],
    total: int,
    file_report: FileReport,
    advance: Callable[[int], None],
) -> bool:
    """Publish a file by the direct path; False when DuckDB refused it (rolled back, nothing
    of it written: the caller stages it instead)."""
    size, fp, mtime_ns = identity
    progress = direct.RowProgress(total, advance)
    try:
        with store.ingest.publishing() as conn:
            previous = store.ingest.find_ingested(conn, size, fp)  # another process may have won
            if previous is not None:
                file_report.skipped = f"already ingested (as {previous})"
                return True
            result = DirectPublisher(conn, spec).publish(progress)
            warnings = Warnings()
            direct.count_warnings(result, warnings)
            _count_duplicates(warnings, result.stage)
            store.ingest.record_ingested(
                conn,
                spec.path,
                size,
                fp,
                spec.dataset,
                result.stage.inserted,
                warnings.total,
                mtime_ns,
                ids=result.profile.ids,
            )
    except DirectFallback:
        progress.take_back()
        return False
    progress.finish()
    file_report.route = "direct"
    file_report.rows_read = result.profile.rows
    file_report.inserted = result.stage.inserted
    file_report.warnings = warnings
    return True


def _stat(path: Path) -> tuple[int, int]:
    """Size and modification time (ns) of a source."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot read ({exc.strerror})", "check permissions") from exc
    return st.st_size, st.st_mtime_ns


def _stage_file(
    unit: Unit,
    reader: Reader,
    cmap: ColumnMap,
    dataset: str,
    file_report: FileReport,
    links: _Images,
    stage: FileStage,
    advance: Callable[[int], None],
) -> tuple[int, bool]:
    """Read, normalise and stage every batch of a file; return the rows read and whether
    any batch had ids of its own (a tar shard's ``.json`` members may bring a
    ``sample_id`` that the shard's first columns did not show)."""
    row = 0
    source_ids = False
    try:
        for batch in reader.batches:
            table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
            source_ids = source_ids or has_id_column(table.column_names)
            ctx = BatchContext(dataset, str(unit.path), id_prefix(dataset, unit.path), row)
            stage.add(_batch(table, cmap, ctx, file_report, links))
            row += table.num_rows
            advance(table.num_rows)
    except (pa.ArrowException, OSError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # disk full while staging: the CLI says so
        raise ReviewerError(
            f"{unit.path}: unreadable after row {row:,} ({first_line(exc, 200)})",
            "the file is truncated or corrupt: fetch it again; nothing of it was ingested,"
            " files before it were",
        ) from exc
    return row, source_ids


def _count_duplicates(warnings: Warnings, result: StageResult) -> None:
    example = f"sample_id {result.duplicate_example!r}"
    warnings.add(
        "duplicate sample_id in the file (later rows skipped)", result.duplicates_in_file, example
    )
    warnings.add("sample_id already in the audit (skipped)", result.duplicates_existing, example)


def _links(
    store: Store,
    unit: Unit,
    cmap: ColumnMap,
    images: Path | None,
) -> _Images:
    """Register the file's image roots (a short transaction) and read its shard's records."""
    links = _Images()
    if unit.image_root is None and cmap.image_path is None:
        return links
    with store.ingest.transaction() as conn:
        if unit.image_root is not None:
            path, kind = unit.image_root
            links.shard_root = store.ingest.image_root_id(conn, str(path), kind)
        if cmap.image_path is not None:
            folder = images if images is not None and images.is_dir() else unit.path.parent
            links.path_root_dir = folder
            links.path_root = store.ingest.image_root_id(conn, str(folder), "dir")
    if unit.image_root is not None and unit.kind not in ("tar", "sidecars"):
        records, _ = shard_records(Shard(unit.path.parent, unit.path, unit.image_root))
        links.records = {r.key: r for r in records}
    return links


def _batch(
    table: pa.Table, cmap: ColumnMap, ctx: BatchContext, file_report: FileReport, links: _Images
) -> pa.Table:
    member = None
    if MEMBER_COLUMN in table.column_names:
        member = table.column(MEMBER_COLUMN).to_pylist()
        table = table.drop_columns([MEMBER_COLUMN])
        cmap = map_columns(table.column_names, Path(ctx.source_file))
    refs = _refs(table, cmap, ctx, file_report, links, member)
    return normalize(table, cmap, ctx, file_report.warnings, refs)


def _column(table: pa.Table, name: str | None) -> list[str | None]:
    if name is None or name not in table.column_names:
        return [None] * table.num_rows
    return [None if v is None else str(v) for v in table.column(name).to_pylist()]


def _source_name(cmap: ColumnMap, canonical: str) -> str | None:
    return next((s for s, c in cmap.canonical.items() if c == canonical), None)


def _refs(
    table: pa.Table,
    cmap: ColumnMap,
    ctx: BatchContext,
    file_report: FileReport,
    links: _Images,
    member: list[str | None] | None,
) -> pa.Array | None:
    """``image_ref`` of each row, or ``None`` when this file has no images to link."""
    n = table.num_rows
    keys = _column(table, cmap.key)
    if member is not None:
        for m, key in zip(member, keys, strict=True):
            file_report.links.add("linked" if m else "failed", str(key))
        refs = [None if m is None else f"{links.shard_root}:{m}" for m in member]
        return pa.array(refs, pa.string())
    if links.records is None and cmap.image_path is None:
        return None
    out: list[str | None] = [None] * n
    if links.records is not None:
        urls = _column(table, _source_name(cmap, "url"))
        for i, key in enumerate(keys):
            outcome, out[i] = _own_record(links, key, urls[i])
            file_report.links.add(outcome, str(key))
    if cmap.image_path is not None:
        _path_refs(_column(table, cmap.image_path), out, ctx, file_report.warnings, links)
    return pa.array(out, pa.string())


def _own_record(links: _Images, key: str | None, url: str | None) -> tuple[str, str | None]:
    """A shard row's image: its own record (same shard, same key) must say so, same url."""
    record = links.records.get(key) if links.records is not None and key is not None else None
    if record is None:
        return "none", None
    if record.member is None:
        return record.status if record.status in ("disagree", "missing") else "failed", None
    if record.url != url:
        return "disagree", None
    return "linked", f"{links.shard_root}:{record.member}"


def _path_refs(
    paths: list[str | None],
    out: list[str | None],
    ctx: BatchContext,
    warnings: Warnings,
    links: _Images,
) -> None:
    bad, first = 0, -1
    for i, raw in enumerate(paths):
        if raw is None or raw == "":
            continue
        member = safe_member(raw)
        if member is None:
            bad += 1
            first = i if first < 0 else first
            continue
        out[i] = f"{links.path_root}:{member}"
    warnings.add(
        f"image path outside its root {links.path_root_dir} (ignored)",
        bad,
        f"source_row {ctx.first_row + first}",
    )
