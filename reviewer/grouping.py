"""``reviewer groups``: near-duplicate groups, so a decision is taken once per group.

Web datasets are full of re-posts (SemDeDup removed half of LAION-440M as
semantic duplicates). Two samples are linked when their image bytes are equal
(SHA-256) or, with ``--by pdq``, when their PDQ hashes are within ``--pdq-distance``
(both of quality >= 50), or, with ``--by clip``, when their stored image embeddings have
cosine similarity >= ``--cosine`` (:mod:`reviewer.embeddings.neighbours`); groups are
the connected components of those links, whatever the method
(:func:`scipy.sparse.csgraph.connected_components`). PDQ pairs come from the same exact
Hamming range search ``reviewer match`` uses (:mod:`reviewer.hamming`), run over the
distinct hashes only: samples with equal hashes are linked directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.errors import ReviewerError
from reviewer.hamming import near_pairs, unique_codes
from reviewer.matching import (
    DEFAULT_MIN_QUALITY,
    DEFAULT_PDQ_DISTANCE,
    check_pdq_distance,
    hex_to_bytes,
)

if TYPE_CHECKING:
    from reviewer.audit import Audit

METHODS = ("pdq", "sha256", "clip")
DEFAULT_COSINE = 0.94
"""clip-retrieval's near-duplicate threshold (it hides results at cosine >= 0.94)."""

Progress = Callable[[int, int | None], None]
Links = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(sample_ids, rows, cols)``: the samples considered and links between them (indices)."""


@dataclass(frozen=True)
class GroupingResult:
    """How many samples were considered (hashed, or embedded) and grouped, in how many groups."""

    method: str
    samples: int
    groups: int
    members: int
    largest: int


def build_groups(
    audit: Audit,
    by: str = "pdq",
    pdq_distance: int = DEFAULT_PDQ_DISTANCE,
    cosine: float = DEFAULT_COSINE,
    embedding_model: str | None = None,
    progress: Progress | None = None,
) -> GroupingResult:
    """Group the audit's samples and store the grouping (replacing that method's last one).

    Raises:
        ReviewerError: unknown method, bad distance or cosine, no image-hash run (``pdq``,
            ``sha256``), no image embeddings (``clip``); nothing is stored then.
    """
    if by not in METHODS:
        raise ReviewerError(f"--by {by}: unknown grouping", f"use one of {', '.join(METHODS)}")
    if by == "clip":
        ids, rows, cols = _clip_links(audit, cosine, embedding_model, progress)
        params = {"cosine": cosine}
    else:
        check_pdq_distance(pdq_distance)
        ids, rows, cols = _hash_links(audit, by == "pdq", pdq_distance, progress)
        params = {"pdq_distance": pdq_distance} if by == "pdq" else {}
    members = _components(ids, rows, cols, by)
    audit.store.groups.replace(by, json.dumps(params), members)
    sizes = members.column("size").to_numpy() if members.num_rows else np.array([0])
    groups = len(set(members.column("group_id").to_pylist()))
    return GroupingResult(by, len(ids), groups, members.num_rows, int(sizes.max()))


def check_cosine(cosine: float) -> None:
    """A cosine threshold must be in (0, 1]: at 0 or below unrelated pictures link."""
    if not 0 < cosine <= 1:
        raise ReviewerError(f"--cosine {cosine}: must be above 0 and at most 1",
                            "0.94 is clip-retrieval's near-duplicate threshold")


def _hash_links(audit: Audit, perceptual: bool, distance: int, progress: Progress | None) -> Links:
    """Equal SHA-256 links, and PDQ links within ``distance`` when ``perceptual``."""
    hashes = audit.store.hashes.hashes()
    hashes = hashes.filter(pc.is_valid(hashes.column("sha256")))
    ids = hashes.column("sample_id").to_numpy(zero_copy_only=False)
    rows, cols = _equal_pairs(hashes.column("sha256").to_numpy(zero_copy_only=False))
    if perceptual:
        near_rows, near_cols = _pdq_pairs(hashes, distance, progress)
        rows, cols = np.concatenate([rows, near_rows]), np.concatenate([cols, near_cols])
    return ids, rows, cols


def _clip_links(
    audit: Audit, cosine: float, embedding_model: str | None, progress: Progress | None
) -> Links:
    """Links between samples whose image embeddings are within ``cosine`` (one model's)."""
    from reviewer.embeddings.neighbours import close_pairs
    from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

    check_cosine(cosine)
    model = ModelId.parse(embedding_model) if embedding_model else None
    vectors = EmbeddingsFolder(audit.paths.embeddings).choose(model, "image")
    return close_pairs(vectors, cosine, progress)


def _equal_pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links from each sample to the first sample with the same value."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rows = np.arange(len(values))
    return rows, first[inverse]


def _pdq_pairs(
    hashes: pa.Table, distance: int, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (into ``hashes``) of PDQ hashes within ``distance``, both of good quality."""
    good_quality = pc.fill_null(
        pc.greater_equal(hashes.column("pdq_quality"), DEFAULT_MIN_QUALITY), False
    )
    good = np.flatnonzero(np.asarray(good_quality))
    if len(good) < 2:
        return np.array([], np.int64), np.array([], np.int64)
    codes = hex_to_bytes(hashes.column("pdq").take(pa.array(good)))
    distinct, first, inverse = unique_codes(codes)
    near, other = near_pairs(distinct, None, distance, progress)
    rows = np.concatenate([good, good[first[near]]])
    cols = np.concatenate([good[first[inverse]], good[first[other]]])
    return rows, cols


def _components(ids: np.ndarray, rows: np.ndarray, cols: np.ndarray, by: str) -> pa.Table:
    """``group_id, sample_id, size`` for every component of two or more samples."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=labels.max() + 1 if n else 0)
    keep = np.flatnonzero(sizes[labels] >= 2) if n else np.array([], np.int64)
    return pa.table(
        {
            "group_id": pa.array([f"{by}-{int(g)}" for g in labels[keep]], pa.string()),
            "sample_id": pa.array(ids[keep], pa.string()),
            "size": pa.array(sizes[labels[keep]], pa.int64()),
        }
    )
