"""Near-duplicate pairs by embedding: every stored image vector's close neighbours.

``reviewer groups --by clip`` links two samples when the cosine similarity of their
image embeddings is at least a threshold (0.94 by default: clip-retrieval hides
results that close as duplicates). The neighbours come from the set's own search
(:class:`reviewer.embeddings.index.VectorIndex`: usearch's exact kernel on the
float16 arrays, or the built index re-ranked exactly), each vector's
:data:`NEIGHBOURS` nearest; a vector with more near-duplicates than that is still
joined to all of them through the connected components, since each of them lists
its own nearest. Cosine is the inner product of unit vectors: LAION's embeddings and
the clip flagger's are L2-normalised, and a set that is not is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reviewer.embeddings.index import VectorIndex, valid_blocks
from reviewer.embeddings.sets import EmbeddingSet
from reviewer.errors import ReviewerError

NEIGHBOURS = 32
"""Nearest vectors looked at per vector (itself included)."""
UNIT_TOLERANCE = 0.02
"""How far from 1 a stored vector's length may be (float16 rounding is ~1e-3)."""

Progress = Callable[[int, int | None], None]


def close_pairs(
    vectors: EmbeddingSet, cosine: float, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sample_ids, rows, cols)``: each embedded sample once, and index pairs into
    ``sample_ids`` of samples whose embeddings have cosine similarity >= ``cosine``.

    Raises:
        ReviewerError: the set's vectors are not unit length.
    """
    ids = vectors.all_ids()
    valid = np.asarray(ids.is_valid())
    sample_ids, node = np.unique(
        ids.filter(ids.is_valid()).to_numpy(zero_copy_only=False), return_inverse=True
    )
    node_of_row = np.full(len(ids), -1, np.int64)
    node_of_row[valid] = node.ravel()
    index = VectorIndex.open(vectors)
    k = min(NEIGHBOURS, int(valid.sum()))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    done = 0
    for block_rows, block in valid_blocks(vectors, rows=8_192):
        queries = block.astype(np.float32)
        _check_unit(queries, vectors)
        scores, found = index.search(queries, k)
        near = (found >= 0) & (scores >= cosine) & (found != block_rows[:, None])
        left = np.repeat(block_rows, near.sum(axis=1))
        rows.append(node_of_row[left])
        cols.append(node_of_row[found[near]])
        done += len(block_rows)
        if progress is not None:
            progress(done, len(sample_ids))
    if not rows:
        return sample_ids, np.array([], np.int64), np.array([], np.int64)
    return sample_ids, np.concatenate(rows), np.concatenate(cols)


def _check_unit(block: np.ndarray, vectors: EmbeddingSet) -> None:
    lengths = np.linalg.norm(block, axis=1)
    if np.any(np.abs(lengths - 1.0) > UNIT_TOLERANCE):
        raise ReviewerError(
            f"embeddings of {vectors.model} in {vectors.folder} are not unit vectors "
            f"(lengths {lengths.min():.3g} to {lengths.max():.3g})",
            "cosine grouping needs L2-normalised embeddings (as LAION releases them)",
        )
