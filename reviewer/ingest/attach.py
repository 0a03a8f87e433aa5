"""Attaching local images to samples already in the audit, by evidence.

Used by ``ingest --images`` (after the metadata is in, so re-running it on an
already-ingested source still links) and by ``reviewer images DIR --images PATH``.
A sample's link is set when the evidence under ``PATH`` proves one; a link that
points into ``PATH`` but that ``PATH``'s records now contradict (failed, conflict,
other caption...) is removed; other links are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.errors import ImageUnavailableError, ReviewerError
from reviewer.ingest.evidence import (
    LinkCounts,
    Record,
    build_evidence,
    find_shards,
    roots_of,
    shard_of_root,
    shard_records,
)

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.store import Store


@dataclass
class AttachReport:
    """The outcome of one linking pass over the audit."""

    images: Path
    shards: int = 0
    strays: int = 0
    unaccounted: int = 0
    changed: int = 0
    links: LinkCounts = field(default_factory=LinkCounts)


def attach_images(
    store: Store, images: Path, progress: Callable[[int, int | None], None] | None = None
) -> AttachReport:
    """Link every sample of the audit that the evidence under ``images`` proves.

    Raises:
        ReviewerError: ``images`` does not exist or holds no image and no record.
    """
    shards, strays = find_shards(images)
    if not shards and not strays:
        raise ReviewerError(
            f"{images}: no images found (.jpg, .png, .webp ...) and no img2dataset output",
            "point --images at an img2dataset output folder (or a parent of several),"
            " a .tar shard or a folder of images",
        )
    ids = store.images.register_roots(roots_of(shards, strays))
    evidence = build_evidence(shards, strays, ids)
    mine = {str(i) for i in ids.values()}
    report = AttachReport(
        images, len(shards), len(strays), evidence.unaccounted, links=LinkCounts()
    )
    changed_ids: list[str] = []
    changed_refs: list[str | None] = []
    done = 0
    for batch in store.images.linking_rows():
        cols = {name: batch.column(name).to_pylist() for name in batch.column_names}
        for i, sample_id in enumerate(cols["sample_id"]):
            keys = (cols["key"][i], sample_id)
            outcome, ref = evidence.match(cols["url"][i], cols["text"][i], keys, cols["md5"][i])
            report.links.add(outcome, str(sample_id))
            current = cols["image_ref"][i]
            # a link into PATH that PATH's records now contradict goes; "none" keeps it
            # (e.g. linked by an image_path column, which no record speaks about)
            stale = outcome != "none" and current is not None and current.partition(":")[0] in mine
            if ref != current and (ref is not None or stale):
                changed_ids.append(sample_id)
                changed_refs.append(ref)
        done += batch.num_rows
        if progress is not None:
            progress(done, None)
    report.changed = store.images.set_refs(changed_ids, changed_refs)
    return report


CHECK_OUTCOMES = {
    "ok": "ok (present, decodes, url proven)",
    "name_only": "ok, linked by file name or image_path (no url record)",
    "missing": "image missing",
    "unreadable": "unreadable",
    "undecodable": "does not decode as an image",
    "url": "url disagrees with img2dataset's record",
}


@dataclass
class CheckReport:
    """``reviewer images --check``: every link re-verified."""

    checked: int = 0
    outcomes: LinkCounts = field(default_factory=LinkCounts)

    @property
    def bad(self) -> int:
        return sum(n for k, n in self.outcomes.counts.items() if k not in ("ok", "name_only"))


def check_links(
    audit: Audit, progress: Callable[[int, int | None], None] | None = None
) -> CheckReport:
    """Re-verify every image link: file present, readable, decodes, url on record."""
    from reviewer.images.decode import decode_image
    from reviewer.images.resolve import read_member

    settings = audit.settings.images
    roots = audit.store.ingest.image_roots()
    records: dict[int, dict[str, Record]] = {}
    linked = audit.store.images.linked()
    report = CheckReport()
    for i, row in enumerate(linked.to_pylist()):
        root_text, _, member = str(row["image_ref"]).partition(":")
        root = roots.get(int(root_text)) if root_text.isdigit() else None
        outcome = "missing"
        if root is not None:
            try:
                data = read_member(Path(root[0]), root[1], member, settings.fetch_max_bytes)
                decode_image(data, settings.max_pixels)
                outcome = _url_outcome(records, int(root_text), root, member, row["url"])
            except ImageUnavailableError as exc:
                outcome = _check_reason(exc.reason)
        report.outcomes.add(outcome, str(row["sample_id"]))
        report.checked += 1
        if progress is not None:
            progress(i + 1, linked.num_rows)
    return report


def _check_reason(reason: str) -> str:
    if reason in ("no image", "outside its root"):
        return "missing"
    if reason in ("corrupt", "not an image", "too large"):
        return "undecodable"
    return "unreadable"


def _url_outcome(
    cache: dict[int, dict[str, Record]],
    root_id: int,
    root: tuple[str, str],
    member: str,
    url: str | None,
) -> str:
    """Whether img2dataset's record of ``member`` names the sample's url."""
    if root_id not in cache:
        cache[root_id] = {}
        shard = shard_of_root(Path(root[0]), root[1])
        if shard is not None:
            try:
                found, _ = shard_records(shard)
            except ReviewerError:
                found = []
            cache[root_id] = {r.member: r for r in found if r.member is not None}
    record = cache[root_id].get(member)
    if record is None:
        return "name_only"
    return "ok" if record.url == url else "url"
