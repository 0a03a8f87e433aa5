"""Labelled subsets and removal lists: ``reviewer export`` without the command line.

Audits end in artefacts: a labelled subset to study or to train a better
filter, and removal lists for dataset maintainers. This module checks the
options against what the audit holds (so a typo is an error naming the valid
values, not an empty file), writes the export atomically (a temporary file
renamed into place, so a failure never leaves half a file) and records how it
was made in a ``FILE.meta.json`` sidecar. The SQL runs in
:class:`reviewer.store.exporting.ExportQueries`.

Escalated (quarantined) samples appear only in removal lists, as bare
identifiers; every other export leaves them out entirely.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.store.export_sql import (
    CONSENSUS_RULES,
    JUDGED_VERDICTS,
    ExportFilters,
    ExportSpec,
)
from reviewer.store.exporting import FORMATS, ExportCatalogue
from reviewer.store.labels import utc_now
from reviewer.version import __version__

_EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_NOT_WITH_REMOVAL = ("labelled", "verdict", "disagreements", "reviewer", "long")


@dataclass(frozen=True)
class ExportOptions(ExportFilters):
    """Everything ``reviewer export`` accepts: where, how, and the filters it inherits.

    See docs/export.md for the semantics.
    """

    out: Path | None = None
    fmt: str | None = None
    force: bool = False
    removal_list: bool = False
    long: bool = False
    consensus: str = "majority"
    with_image_path: bool = False


@dataclass
class ExportResult:
    """What was written."""

    path: Path
    sidecar: Path
    format: str
    rows: int
    columns: list[tuple[str, str]] = field(default_factory=list)
    withheld_escalated: int = 0

    @property
    def empty(self) -> bool:
        """True when no row matched (the file still carries the schema, except JSON lines)."""
        return self.rows == 0


def sidecar_path(out: Path) -> Path:
    """Where the ``.meta.json`` of an export goes."""
    return out.with_name(out.name + ".meta.json")


def resolve_format(out: Path, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the file extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ReviewerError(f"unknown format '{fmt}'", f"use one of {', '.join(FORMATS)}")
        return fmt
    ext = out.suffix.lower()
    if ext not in _EXTENSIONS:
        raise ReviewerError(
            f"{out}: cannot tell the format from the extension '{ext or '(none)'}'",
            "name the file .parquet, .csv or .jsonl, or pass --format",
        )
    return _EXTENSIONS[ext]


def default_out(audit: Audit, options: ExportOptions, now: datetime) -> Path:
    """``exports/<kind>-<UTC time>.<ext>`` inside the audit, when --out is not given."""
    kind = "removal-list" if options.removal_list else "long" if options.long else "export"
    ext = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}[options.fmt or "parquet"]
    return audit.paths.exports / f"{kind}-{now.strftime('%Y%m%dT%H%M%SZ')}.{ext}"


def check_target(out: Path, force: bool) -> None:
    """Refuse to overwrite without ``force``; make sure the folder exists and is writable."""
    for path in (out, sidecar_path(out)):
        if path.exists() and not force:
            raise ReviewerError(f"{path}: already exists", "pass --force to overwrite it")
        if path.is_dir():
            raise ReviewerError(f"{path}: is a folder", "give a file name")
        if path.exists() and not path.is_file():
            # Written through a temporary file and a rename: that would replace a device
            # (/dev/stdout, /dev/full) or a pipe with a plain file, not write into it.
            raise ReviewerError(
                f"{path}: is not a regular file (a device or pipe)",
                "give the path of a file to create",
            )
    folder = out.parent
    if not folder.is_dir():
        raise ReviewerError(f"{folder}: no such folder", "create it first or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReviewerError(f"{folder}: not writable", "choose a folder you can write to")


def _choose(value: str | None, valid: list[str], what: str) -> None:
    if value is not None and value not in valid:
        raise ReviewerError(
            f"unknown {what} '{value}'", f"valid: {', '.join(valid) or 'none in this audit'}"
        )


def validate(audit: Audit, options: ExportOptions, catalogue: ExportCatalogue) -> None:
    """Check every filter against what the audit holds; raise a user error naming valid values."""
    if options.with_image_path and (options.removal_list or options.long):
        raise ReviewerError(
            "--with-image-path applies to the one-row-per-sample export",
            "leave out --removal-list / --long",
        )
    if options.removal_list:
        clashing = [n for n in _NOT_WITH_REMOVAL if getattr(options, n)]
        if clashing:
            raise ReviewerError(
                f"--removal-list cannot be combined with --{clashing[0].replace('_', '-')}",
                "a removal list holds confirmed (by --consensus) and escalated samples;"
                " narrow it with --dataset, --queue, --category or --flagged-by",
            )
    _choose(options.consensus, list(CONSENSUS_RULES), "consensus rule")
    _choose(options.verdict, list(JUDGED_VERDICTS), "verdict")
    _choose(options.category, categories(audit, catalogue), "category")
    if options.dataset is not None:
        _choose(options.dataset, catalogue.datasets, "dataset")
    if options.queue is not None:
        _choose(options.queue, catalogue.queues, "queue")
    for name in (*options.flagged_by, *options.not_flagged_by):
        if name.replace("-", "_") not in catalogue.flag_names():
            ran = ", ".join(
                f"{flagger} ({', '.join(flags)})" for flagger, flags in catalogue.flags.items()
            )
            raise ReviewerError(
                f"flagger '{name}' has not run on this audit",
                f"flaggers that ran: {ran}" if ran else "no flagger has run: use `reviewer flag`",
            )
    if options.reviewer is not None:
        audit.labels.require_reviewer(options.reviewer)


def categories(audit: Audit, catalogue: ExportCatalogue) -> list[str]:
    """Categories from the settings, then any other category found in the labels."""
    configured = list(audit.settings.review.categories)
    return configured + [c for c in catalogue.label_categories if c not in configured]


def build_spec(options: ExportOptions, category_names: list[str]) -> ExportSpec:
    """The validated options as the store's :class:`ExportSpec` (flagger dashes normalised)."""
    values = options.filter_values()
    values["flagged_by"] = tuple(n.replace("-", "_") for n in options.flagged_by)
    values["not_flagged_by"] = tuple(n.replace("-", "_") for n in options.not_flagged_by)
    return ExportSpec(
        mode="removal" if options.removal_list else "long" if options.long else "wide",
        consensus=options.consensus,
        categories=tuple(category_names),
        with_image_path=options.with_image_path,
        **values,
    )


def locate_image(kind: str, root: str, member: str) -> tuple[str | None, str | None]:
    """Where a linked image is (``/abs/file``, ``shard.tar#member``, ``shard.parquet#row``)
    and the SHA-256 of its bytes, so anyone can verify which picture was judged.
    The hash is ``None`` when the image cannot be read now."""
    from reviewer.errors import ImageUnavailableError
    from reviewer.images.resolve import read_member

    where = str(Path(root) / member) if kind == "dir" else f"{root}#{member}"
    try:
        data = read_member(Path(root), kind, member, _MAX_HASHED_BYTES)
    except ImageUnavailableError:
        return where, None
    return where, hashlib.sha256(data).hexdigest()


_MAX_HASHED_BYTES = 1 << 31


def export(
    audit: Audit,
    options: ExportOptions,
    progress: Callable[[int, int | None], None] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ExportResult:
    """Write an export and its sidecar; see :class:`ExportOptions`.

    Raises:
        ReviewerError: A bad option, an existing file without ``force``, an unwritable path.
    """
    now = clock()
    if options.out is None:
        out = default_out(audit, options, now)
        out.parent.mkdir(exist_ok=True)
    else:
        out = Path(options.out)
    out = out.expanduser().absolute()
    fmt = resolve_format(out, options.fmt)
    check_target(out, options.force)
    catalogue = audit.store.exports.catalogue(audit.settings, options.dataset is not None)
    validate(audit, options, catalogue)
    spec = build_spec(options, categories(audit, catalogue))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    meta_tmp = out.with_name(f".{out.name}.meta.{os.getpid()}.tmp")
    try:
        counts = audit.store.exports.run(spec, audit.settings, tmp, fmt, progress, locate_image)
        result = ExportResult(
            out, sidecar_path(out), fmt, counts.rows, counts.columns, counts.withheld_escalated
        )
        meta_tmp.write_text(
            json.dumps(sidecar(audit, options, spec, result, now), indent=2), encoding="utf-8"
        )
        os.replace(tmp, out)
        os.replace(meta_tmp, result.sidecar)
    finally:
        for leftover in (tmp, meta_tmp):
            leftover.unlink(missing_ok=True)
    return result


def sidecar(
    audit: Audit, options: ExportOptions, spec: ExportSpec, result: ExportResult, now: datetime
) -> dict[str, Any]:
    """The content of ``FILE.meta.json``: how the export was made and what it holds."""
    return {
        "tool": "reviewer",
        "version": __version__,
        "created_at": now.isoformat(timespec="seconds"),
        "audit": str(audit.root),
        "file": result.path.name,
        "format": result.format,
        "kind": {"removal": "removal-list", "long": "long", "wide": "wide"}[spec.mode],
        "consensus": spec.consensus,
        "categories": list(spec.categories),
        "with_image_path": spec.with_image_path,
        "filters": options.filters(),
        "counts": {
            "rows": result.rows,
            "withheld_escalated": result.withheld_escalated,
        },
        "columns": [{"name": n, "type": t} for n, t in result.columns],
    }


__all__ = [
    "ExportOptions",
    "ExportResult",
    "check_target",
    "export",
    "resolve_format",
    "sidecar_path",
]
