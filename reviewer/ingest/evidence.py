"""Which local image belongs to which sample: links proven by img2dataset's own records.

img2dataset writes, per shard, a parquet (and ``{key}.json`` sidecars) saying for
every input row its ``url``, ``caption``, ``status`` and the ``key`` of the image
it saved. Keys (``000000000``...) repeat in every output folder and collide with
LAION's numeric ``SAMPLE_ID``s, so a key or a file name alone proves nothing.
The rules (docs/ingest.md, "Matching rules"):

1. An image is linked to a sample only when a shard's record of that image has
   the sample's ``url`` and, when both have one, the same caption. Records are read
   per shard and point at that shard's own member: nothing is looked up by key
   across shards or output folders.
2. A record whose ``status`` is not ``success`` never links (failed download),
   nor does one whose ``.json`` sidecar names another url.
3. Several records for one url: linked when their bytes are identical, or when
   exactly one matches the sample's ``md5`` / ``hash`` column; else a conflict,
   not linked.
4. Images without any img2dataset record ("stray" images in a folder with no
   parquet and no sidecars) may be linked by file stem = the sample's ``key`` or
   ``sample_id``, only when exactly one stray image has that stem and the sample's
   url is not in any record.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ImageUnavailableError, ReviewerError
from reviewer.images.resolve import image_bytes_column, read_member
from reviewer.ingest.sources import IMAGE_SUFFIXES, shard_container

MAX_COMPARE_BYTES = 50_000_000
"""Images larger than this are not read to settle a conflict (it stays a conflict)."""

OUTCOMES = {
    "linked": "linked",
    "failed": "no image (failed download)",
    "ambiguous": "ambiguous file name (not linked)",
    "conflict": "one url, different images (not linked)",
    "caption": "url found but caption differs (not linked)",
    "disagree": "sidecar .json names another url (not linked)",
    "missing": "record says downloaded, image file absent (not linked)",
    "none": "no image",
}
"""Outcome of linking one sample -> the words the ingest report uses."""
ALWAYS_SHOWN = ("linked", "failed", "ambiguous")


@dataclass(frozen=True)
class Shard:
    """One img2dataset shard: its output folder, metadata parquet and image container.

    ``container`` is ``(path, kind)``: a folder (``files``), a tar (``webdataset``)
    or the parquet itself (``parquet`` output format), or ``None`` when no image
    of the shard was kept.
    """

    output: Path
    parquet: Path | None
    container: tuple[Path, str] | None


@dataclass(frozen=True)
class Record:
    """img2dataset's record of one input row of a shard."""

    key: str
    url: str | None
    caption: str | None
    status: str
    member: str | None
    md5: str | None = None


@dataclass
class LinkCounts:
    """How many samples got each outcome, with a few example sample ids of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, outcome: str, sample_id: str) -> None:
        self.counts[outcome] += 1
        seen = self.examples.setdefault(outcome, [])
        if len(seen) < 3:
            seen.append(sample_id)

    def merge(self, other: LinkCounts) -> None:
        for outcome, n in other.counts.items():
            self.counts[outcome] += n
            seen = self.examples.setdefault(outcome, [])
            seen.extend(other.examples.get(outcome, [])[: 3 - len(seen)])

    def lines(
        self, words_of: dict[str, str] = OUTCOMES, always: tuple[str, ...] = ALWAYS_SHOWN
    ) -> list[str]:
        """``linked: 276 (e.g. ...)`` etc.: each outcome with up to three example sample
        ids; outcomes in ``always`` are listed even at zero."""
        out = []
        for outcome, words in words_of.items():
            n = self.counts.get(outcome, 0)
            if not n and outcome not in always:
                continue
            line = f"{words}: {n:,}"
            if self.examples.get(outcome):
                line += " (e.g. " + ", ".join(map(repr, self.examples[outcome])) + ")"
            out.append(line)
        return out


# -- finding shards ---------------------------------------------------------------------


def is_record_parquet(path: Path) -> bool:
    """Whether a parquet is an img2dataset shard's record (``key`` and ``url`` columns)."""
    try:
        names = {n.lower() for n in pq.read_schema(path).names}
    except (pa.ArrowException, OSError):
        return False
    return {"key", "url"} <= names and ("status" in names or "caption" in names)


def find_shards(path: Path) -> tuple[list[Shard], list[tuple[Path, str]]]:
    """The img2dataset shards under ``path`` and the stray images (folder, file name).

    Raises:
        ReviewerError: ``path`` does not exist.
    """
    path = path.expanduser().resolve()
    if not path.exists():
        raise ReviewerError(f"{path}: no such file or folder", "check --images")
    if path.is_file():
        if path.suffix.lower() == ".tar":
            parquet = path.with_suffix(".parquet")
            own = parquet if parquet.is_file() and is_record_parquet(parquet) else None
            return [Shard(path.parent, own, (path, "tar"))], []
        if path.suffix.lower() == ".parquet" and is_record_parquet(path):
            return [Shard(path.parent, path, shard_container(path))], []
        raise ReviewerError(
            f"{path}: not an img2dataset output", "give a folder, a .tar shard or a shard .parquet"
        )
    shards: list[Shard] = []
    strays: list[tuple[Path, str]] = []
    claimed: set[Path] = set()
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        here = Path(folder)
        if here in claimed or any(p in claimed for p in here.parents):
            dirs[:] = []
            continue
        _shards_in(here, sorted(files), shards, strays, claimed)
    return shards, strays


def shard_of_root(path: Path, kind: str) -> Shard | None:
    """The shard whose images an image root holds (``None`` for a folder of stray images)."""
    if kind == "parquet":
        return Shard(path.parent, path, (path, kind))
    parquet = path.with_suffix(".parquet")
    own = parquet if parquet.is_file() and is_record_parquet(parquet) else None
    if own is None and kind == "dir" and not any(path.glob("*.json")):
        return None
    return Shard(path.parent, own, (path, kind))


def _shards_in(
    here: Path,
    files: list[str],
    shards: list[Shard],
    strays: list[tuple[Path, str]],
    claimed: set[Path],
) -> None:
    """Add the shards and stray images found directly in folder ``here``."""
    for name in files:
        path = here / name
        if path.suffix.lower() == ".parquet" and is_record_parquet(path):
            container = shard_container(path)
            if container is not None:
                claimed.add(container[0])
            shards.append(Shard(here, path, container))
    for name in files:
        path = here / name
        if path.suffix.lower() == ".tar" and path not in claimed:
            shards.append(Shard(here, None, (path, "tar")))
    stems = {_stem(n) for n in files if n.lower().endswith(".json")}
    images = [n for n in files if _is_image(n)]
    if any(_stem(n) in stems for n in images):
        shards.append(Shard(here.parent, None, (here, "dir")))
    else:
        strays.extend((here, n) for n in images)


def _stem(name: str) -> str:
    return name.rpartition("/")[2].partition(".")[0]


def _is_image(name: str) -> bool:
    base = name.rpartition("/")[2]
    _, dot, ext = base.partition(".")
    return bool(dot) and f".{ext.lower()}" in IMAGE_SUFFIXES


# -- reading a shard's records ----------------------------------------------------------


def shard_records(shard: Shard) -> tuple[list[Record], int]:
    """Every record of a shard, each pointing at its image member (or ``None``), and the
    number of images in the container that no record accounts for.

    Raises:
        ReviewerError: The shard's tar or parquet cannot be read.
    """
    images, sidecars = _container(shard.container)
    if shard.parquet is not None:
        records = _parquet_records(shard.parquet, images, sidecars)
    else:
        records = [_sidecar_record(key, meta, images) for key, meta in sidecars.items()]
    used = {r.member for r in records if r.member is not None}
    return records, sum(1 for m in images.values() if m not in used)


def _container(
    container: tuple[Path, str] | None,
) -> tuple[dict[str, str], dict[str, dict[str, object]]]:
    """Image members by key, and parsed ``.json`` sidecars by key."""
    if container is None or container[1] == "parquet":
        return {}, {}
    path, kind = container
    if kind == "tar":
        return _tar_members(path)
    names = sorted(e.name for e in os.scandir(path) if e.is_file())
    images = {_stem(n): n for n in reversed(names) if _is_image(n)}
    sidecars = {}
    for name in names:
        if name.lower().endswith(".json") and _stem(name) in images:
            sidecars[_stem(name)] = _json((path / name).read_bytes())
    return images, sidecars


def _tar_members(path: Path) -> tuple[dict[str, str], dict[str, dict[str, object]]]:
    images: dict[str, str] = {}
    sidecars: dict[str, dict[str, object]] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if _is_image(member.name):
                    images.setdefault(_stem(member.name), member.name)
                elif member.name.lower().endswith(".json"):
                    fh = tar.extractfile(member)
                    sidecars[_stem(member.name)] = _json(fh.read() if fh else b"")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ReviewerError(f"{path}: unreadable tar shard ({exc})", "fetch it again") from exc
    return images, sidecars


def _json(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _sidecar_record(key: str, meta: dict[str, object], images: dict[str, str]) -> Record:
    status = str(meta.get("status") or "success")
    member = images.get(key) if status == "success" else None
    if status == "success" and member is None:
        status = "missing"
    url, caption = _text(meta.get("url")), _text(meta.get("caption"))
    return Record(key, url, caption, status, member, _text(meta.get("md5")))


def _parquet_records(
    parquet: Path, images: dict[str, str], sidecars: dict[str, dict[str, object]]
) -> list[Record]:
    try:
        schema = pq.read_schema(parquet)
        lower = {n.lower(): n for n in schema.names}
        wanted = [lower[c] for c in ("key", "url", "caption", "status", "md5") if c in lower]
        table = pq.read_table(parquet, columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise ReviewerError(
            f"{parquet}: unreadable shard parquet ({exc})", "fetch it again"
        ) from exc
    columns = {c.lower(): table.column(c).to_pylist() for c in wanted}
    in_cells = image_bytes_column(schema) is not None
    n = table.num_rows
    records = []
    for row in range(n):
        key = _text(columns["key"][row]) or ""
        url = _text(columns["url"][row])
        caption = _text(columns.get("caption", [None] * n)[row])
        status = _text(columns.get("status", ["success"] * n)[row]) or "success"
        md5 = _text(columns.get("md5", [None] * n)[row])
        member = None
        if status == "success":
            member = str(row) if in_cells else images.get(key)
            side = sidecars.get(key, {}).get("url")
            if member is None:
                status = "missing"
            elif side is not None and side != url:
                status, member = "disagree", None
        records.append(Record(key, url, caption, status, member, md5))
    return records


# -- matching samples -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A record, located: the image root's id and path, and the member."""

    root_id: int
    root: tuple[Path, str]
    member: str | None
    caption: str | None
    status: str
    md5: str | None


@dataclass
class Evidence:
    """Everything ``--images PATH`` proves: records by url, stray images by stem."""

    by_url: dict[str, list[Candidate]] = field(default_factory=dict)
    by_stem: dict[str, list[str]] = field(default_factory=dict)
    unaccounted: int = 0
    max_bytes: int = MAX_COMPARE_BYTES
    _digests: dict[str, str | None] = field(default_factory=dict)

    def add_shard(self, root_id: int, shard: Shard) -> None:
        records, extra = shard_records(shard)
        self.unaccounted += extra
        root = shard.container or (shard.parquet or shard.output, "dir")
        for r in records:
            if r.url:
                self.by_url.setdefault(r.url, []).append(
                    Candidate(root_id, root, r.member, r.caption, r.status, r.md5)
                )

    def add_stray(self, root_id: int, name: str) -> None:
        self.by_stem.setdefault(_stem(name), []).append(f"{root_id}:{name}")

    def match(
        self, url: str | None, text: str | None, keys: tuple[str | None, ...], md5: str | None
    ) -> tuple[str, str | None]:
        """``(outcome, image_ref)`` for one sample; ``image_ref`` only when ``linked``.

        ``keys``: the sample's ``key`` and ``sample_id``, tried as stray file stems.
        """
        found = self.by_url.get(url) if url else None
        if found:
            return self._by_record(found, text, md5)
        for key in keys:
            refs = self.by_stem.get(key) if key else None
            if refs:
                return ("linked", refs[0]) if len(refs) == 1 else ("ambiguous", None)
        return "none", None

    def _by_record(
        self, found: list[Candidate], text: str | None, md5: str | None
    ) -> tuple[str, str | None]:
        same = [c for c in found if c.caption is None or text is None or c.caption == text]
        if not same:
            return "caption", None
        ok = list({(c.root_id, c.member): c for c in same if c.member is not None}.values())
        if not ok:
            statuses = {c.status for c in same}
            worst = next((s for s in ("disagree", "missing") if s in statuses), "failed")
            return worst, None
        if len(ok) == 1:
            return "linked", _ref(ok[0])
        return self._settle(ok, md5)

    def _settle(self, ok: list[Candidate], md5: str | None) -> tuple[str, str | None]:
        """Several images claim the url: identical bytes, or the one matching the md5."""
        digests = [self._digest(c) for c in ok]
        if None not in digests and len(set(digests)) == 1:
            return "linked", _ref(ok[0])
        if md5:
            wanted = md5.strip().lower()
            hits = [c for c, d in zip(ok, digests, strict=True) if d == wanted]
            if len(hits) == 1:
                return "linked", _ref(hits[0])
        return "conflict", None

    def _digest(self, c: Candidate) -> str | None:
        """md5 of a candidate's bytes (cached; ``None`` when unreadable)."""
        ref = _ref(c)
        if ref not in self._digests:
            try:
                data = read_member(c.root[0], c.root[1], str(c.member), self.max_bytes)
                self._digests[ref] = hashlib.md5(data, usedforsecurity=False).hexdigest()
            except ImageUnavailableError:
                self._digests[ref] = None
        return self._digests[ref]


def _ref(c: Candidate) -> str:
    return f"{c.root_id}:{c.member}"


def roots_of(shards: list[Shard], strays: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The image roots to register: every shard container and every stray folder."""
    roots: dict[tuple[Path, str], None] = {}
    for shard in shards:
        if shard.container is not None:
            roots[shard.container] = None
    for folder, _ in strays:
        roots[(folder, "dir")] = None
    return list(roots)


def build_evidence(
    shards: list[Shard], strays: list[tuple[Path, str]], ids: dict[tuple[Path, str], int]
) -> Evidence:
    """The evidence of ``find_shards``' result, with roots already given ids."""
    evidence = Evidence()
    for shard in shards:
        evidence.add_shard(ids.get(shard.container, 0) if shard.container else 0, shard)
    for folder, name in strays:
        evidence.add_stray(ids[(folder, "dir")], name)
    return evidence
