"""``reviewer match``: quarantine every sample on a known-content list, before anyone sees it.

Exact entries (MD5 / SHA-1 / SHA-256 of the image bytes, URLs, domains) are
matched by hash joins in DuckDB (:class:`reviewer.store.hashes.HashQueries`).
PDQ entries match perceptually: a sample matches when its PDQ hash is within
Hamming distance ``--pdq-distance`` (default 31, Meta's recommendation) of a
listed hash and its quality is at least ``min_quality`` (default 50: Meta
discards hashes of quality 49 and below as too uninformative to match).

Near matching is an exact range search in Hamming space (:mod:`reviewer.hamming`:
multi-index hashing, exact by the pigeonhole principle; brute force for small inputs),
so no match within the distance is ever missed.

All or nothing: the list is parsed and checked whole, every match is computed,
and only then are the matches written, in one SQLite transaction, together with
the run's provenance (list name, entry count, file hash — never the entries).
A failure anywhere before that quarantines nothing. Cached pixels of matched
samples are then deleted from ``cache/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from reviewer.errors import ReviewerError
from reviewer.hamming import near_pairs
from reviewer.known_lists import KnownList, read_list

if TYPE_CHECKING:
    from reviewer.audit import Audit

PDQ_BITS = 256
DEFAULT_PDQ_DISTANCE = 31
DEFAULT_MIN_QUALITY = 50
MAX_PDQ_DISTANCE = 31
"""Meta's recommended match distance; larger ones match unrelated images."""

Progress = Callable[[int, int | None], None]


@dataclass
class MatchResult:
    """What ``reviewer match`` found: counts only, never a caption."""

    list_name: str
    entries: dict[str, int]
    duplicates: int
    matched: dict[str, int] = field(default_factory=dict)
    """Samples matched per entry type (a sample may match several types)."""
    quarantined: int = 0
    """Samples newly quarantined by this run (others were already quarantined)."""
    samples_matched: int = 0
    low_quality: int = 0
    """Samples whose PDQ quality was below the threshold: not matched perceptually."""
    files_deleted: int = 0
    run_id: int = 0


def match_list(
    audit: Audit,
    list_path: str,
    name: str | None = None,
    pdq_distance: int = DEFAULT_PDQ_DISTANCE,
    min_quality: int = DEFAULT_MIN_QUALITY,
    progress: Progress | None = None,
) -> MatchResult:
    """Match the audit against a list file and quarantine every match (see module doc).

    Raises:
        ReviewerError: bad list, bad parameters, no image-hash run when the list holds
            hashes; nothing is quarantined then.
    """
    _check_params(pdq_distance, min_quality)
    known = read_list(list_path, name)
    _check_name(known.name)
    hash_kinds = {"md5", "sha1", "sha256", "pdq"} & set(known.entries)
    exact = audit.store.hashes.exact_matches(known.entries, needs_hashes=bool(hash_kinds))
    near, low = pa.table({"sample_id": pa.array([], pa.string())}), 0
    if "pdq" in known.entries:
        samples, low = audit.store.hashes.pdq_hashes(min_quality)
        near = _pdq_matches(samples, known.entries["pdq"], pdq_distance, progress)
    near = near.append_column("entry_type", pa.array(["pdq"] * near.num_rows, pa.string()))
    matches = pa.concat_tables([exact.select(["sample_id", "entry_type"]).cast(near.schema), near])
    return _apply(audit, known, matches, low, pdq_distance, min_quality)


def check_pdq_distance(pdq_distance: int) -> None:
    """Distances above 31 match unrelated images (Meta's PDQ guidance)."""
    if not 0 <= pdq_distance <= MAX_PDQ_DISTANCE:
        raise ReviewerError(
            f"--pdq-distance {pdq_distance}: must be between 0 and {MAX_PDQ_DISTANCE}",
            "31 is Meta's recommended PDQ match distance",
        )


def _check_params(pdq_distance: int, min_quality: int) -> None:
    check_pdq_distance(pdq_distance)
    if not 0 <= min_quality <= 100:
        raise ReviewerError(f"--min-quality {min_quality}: must be between 0 and 100")


def _check_name(name: str) -> None:
    if not name.strip() or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise ReviewerError(f"list name {name!r}: empty or with control characters",
                            "pass --name NAME")


def _pdq_matches(
    samples: pa.Table, listed: pa.Array, distance: int, progress: Progress | None
) -> pa.Table:
    """``sample_id`` of samples whose PDQ hash is within ``distance`` of a listed one."""
    ids = samples.column("sample_id").to_numpy(zero_copy_only=False)
    if len(ids) == 0 or len(listed) == 0:
        return pa.table({"sample_id": pa.array([], pa.string())})
    matched, _ = near_pairs(hex_to_bytes(samples.column("pdq")), hex_to_bytes(listed),
                            distance, progress)
    hit = np.zeros(len(ids), dtype=bool)
    hit[matched] = True
    return pa.table({"sample_id": pa.array(ids[hit], pa.string())})


def hex_to_bytes(hexes: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-hex-digit PDQ strings -> an ``(n, 32)`` uint8 array (the bit order of the string)."""
    joined = "".join(hexes.to_pylist())
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, PDQ_BITS // 8)


def _apply(
    audit: Audit,
    known: KnownList,
    matches: pa.Table,
    low: int,
    pdq_distance: int,
    min_quality: int,
) -> MatchResult:
    """Quarantine the matches in one transaction, then delete their cached pixels."""
    result = MatchResult(known.name, known.counts(), known.duplicates, low_quality=low)
    types = matches.column("entry_type").to_pylist()
    for kind in types:
        result.matched[kind] = result.matched.get(kind, 0) + 1
    ids = set(matches.column("sample_id").to_pylist())
    result.samples_matched = len(ids)
    params: dict[str, Any] = {"file": str(known.path), "pdq_distance": pdq_distance,
                              "min_quality": min_quality, "by_type": known.counts()}
    result.run_id, result.quarantined = audit.labels.quarantine_list_matches(
        known.name, known.count, known.file_sha256, json.dumps(params), matches
    )
    from reviewer.images.purge import purge_cached_images

    result.files_deleted = purge_cached_images(audit.paths.images_cache, ids)
    return result
