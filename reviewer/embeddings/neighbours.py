"""Near-duplicate pairs by embedding: every stored image vector's close neighbours.

``reviewer groups --by clip`` links two samples when the cosine similarity of their
image embeddings is at least a threshold (0.94 by default: clip-retrieval hides
results that close as duplicates). Two ways, as the set is searched elsewhere:

- without a built index (sets below :data:`~reviewer.embeddings.index.EXACT_BELOW`
  vectors): an exact range search, faiss ``IndexFlatIP.range_search`` (blocked BLAS
  products; ~8x usearch's exact kernel for all-pairs work here), every pair at or above
  the threshold;
- with the index ``reviewer index`` built: each vector's :data:`NEIGHBOURS` nearest
  (approximate, re-ranked exactly), kept at or above the threshold; a vector with more
  near copies than that still joins them through the connected components.

Cosine is the inner product of unit vectors: LAION's embeddings and the clip flagger's
are L2-normalised, and a set that is not is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from reviewer.embeddings.index import EXACT_BELOW, VectorIndex, valid_blocks
from reviewer.embeddings.sets import EmbeddingSet
from reviewer.errors import ReviewerError

NEIGHBOURS = 32
"""Nearest vectors looked at per vector (itself included) through a built index."""
UNIT_TOLERANCE = 0.02
"""How far from 1 a stored vector's length may be (float16 rounding is ~1e-3)."""
BLOCK = 8_192
"""Query vectors per search call."""

Progress = Callable[[int, int | None], None]
Pairs = tuple[np.ndarray, np.ndarray]


def close_pairs(
    vectors: EmbeddingSet, cosine: float, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sample_ids, rows, cols)``: each embedded sample once, and index pairs into
    ``sample_ids`` of samples whose embeddings have cosine similarity >= ``cosine``.

    Raises:
        ReviewerError: the vectors are not unit length, or too many to compare every
            pair without an index.
    """
    ids = vectors.all_ids()
    valid = np.asarray(ids.is_valid())
    sample_ids, node = np.unique(
        ids.filter(ids.is_valid()).to_numpy(zero_copy_only=False), return_inverse=True
    )
    node_of_row = np.full(len(ids), -1, np.int64)
    node_of_row[valid] = node.ravel()
    index = VectorIndex.open(vectors)
    if index.kind != "flat":
        left, right = _indexed_pairs(index, vectors, cosine, len(sample_ids), progress)
    elif len(sample_ids) <= EXACT_BELOW:
        left, right = _exact_pairs(vectors, cosine, len(sample_ids), progress)
    else:
        raise ReviewerError(
            f"{len(sample_ids):,} embeddings and no vector index: comparing every pair "
            "would take hours",
            "build one first with `reviewer index DIR --kind hnsw`",
        )
    return sample_ids, node_of_row[left], node_of_row[right]


def _blocks(vectors: EmbeddingSet) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(global rows, float32 unit vectors) of the rows with a sample, checked."""
    for rows, block in valid_blocks(vectors, rows=BLOCK):
        unit = block.astype(np.float32)
        _check_unit(unit, vectors)
        yield rows, unit


def _exact_pairs(
    vectors: EmbeddingSet, cosine: float, total: int, progress: Progress | None
) -> Pairs:
    """Every pair of rows at or above ``cosine`` (each once), by exact range search."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.dim)
    order = []
    for rows, unit in _blocks(vectors):
        flat.add(unit)
        order.append(rows)
    row_of = np.concatenate(order) if order else np.array([], np.int64)
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    done = 0
    for rows, unit in _blocks(vectors):
        # faiss keeps inner products strictly above the radius: ask a hair lower, then cut.
        limits, scores, found = flat.range_search(unit, cosine - 1e-6)
        counts: np.ndarray = np.diff(limits.astype(np.int64))
        query = np.repeat(rows, counts)
        other = row_of[found.astype(np.int64)]
        keep = (scores >= cosine) & (query < other)
        left.append(query[keep])
        right.append(other[keep])
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return _joined(left, right)


def _indexed_pairs(
    index: VectorIndex, vectors: EmbeddingSet, cosine: float, total: int,
    progress: Progress | None,
) -> Pairs:
    """Each row's nearest through the built index, kept at or above ``cosine``."""
    k = min(NEIGHBOURS, total)
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    done = 0
    for rows, unit in _blocks(vectors):
        scores, found = index.search(unit, k)
        near = (found >= 0) & (scores >= cosine) & (found != rows[:, None])
        left.append(np.repeat(rows, near.sum(axis=1)))
        right.append(found[near])
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return _joined(left, right)


def _joined(left: list[np.ndarray], right: list[np.ndarray]) -> Pairs:
    if not left:
        return np.array([], np.int64), np.array([], np.int64)
    return np.concatenate(left).astype(np.int64), np.concatenate(right).astype(np.int64)


def _check_unit(block: np.ndarray, vectors: EmbeddingSet) -> None:
    lengths = np.linalg.norm(block, axis=1)
    if np.any(np.abs(lengths - 1.0) > UNIT_TOLERANCE):
        raise ReviewerError(
            f"embeddings of {vectors.model} in {vectors.folder} are not unit vectors "
            f"(lengths {lengths.min():.3g} to {lengths.max():.3g})",
            "cosine grouping needs L2-normalised embeddings (as LAION releases them)",
        )
