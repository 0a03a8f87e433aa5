"""Exact range search in Hamming space: every pair of binary codes within a distance.

``reviewer match`` (samples against a list's PDQ entries) and ``reviewer groups --by pdq``
(all samples against each other) need every pair of 256-bit PDQ hashes within Hamming
distance 31, a million against a million. Brute force (faiss ``IndexBinaryFlat``)
checks 10^12 pairs: ~40 minutes on this shared 2-core machine; this module ~33 s
(``benchmarks/bench_exposure.py``). faiss's
multi-index hashing (``IndexBinaryMultiHash``, the index Meta's HMA uses for PDQ) is
the right algorithm but measured ~150 µs per query at 256 bits / radius 31 here (a hash
map of vectors per substring, a set per query): most of an hour for a million queries.

This module is the same algorithm (Norouzi, Punjani & Fleet, "Fast search in Hamming
space with multi-index hashing", CVPR 2012), written with numpy because no well-kept
library offers a fast exact one: direct-address buckets per chunk, every probe of a chunk
done for all queries at once in chunk order (so table reads run forward), one vectorised
popcount check per batch. Tests compare it with faiss brute force.

**Why it is exact** (the pigeonhole principle, generalised). Split the bits into disjoint
chunks and give chunk ``i`` a probe radius ``t_i >= -1`` (``-1``: not probed) with
``sum(t_i + 1) >= r + 1``. If ``d(a, b) <= r``, some chunk has ``d_i(a, b) <= t_i``:
otherwise ``d = sum(d_i) >= sum(t_i + 1) >= r + 1 > r``. Probing, in every chunk, every
key within ``t_i`` bits of ``a``'s chunk value therefore reaches every ``b`` within ``r``
of ``a``; each candidate is then checked on all bits, so nothing farther is returned.
For PDQ at ``r = 31`` that is 11 chunks of 23-24 bits, ten probed within 2 bits and one
within 1 (``sum(t_i + 1) = 32``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

MAX_WIDTH = 24
"""Widest chunk: its bucket tables have 2^24 slots (a state byte and an int32 start: 80 MB)."""

# Cost model (seconds per unit, measured on this machine's numpy) that picks the chunking,
# or brute force when that is cheaper (small inputs). Only the ratios matter.
_PROBE = 4e-9  # one probe key for one query: xor, bucket-table read, test (dense table)
_CANDIDATE = 6e-8  # one candidate pair: its bucket's codes read and checked word by word
_SORT = 1e-7  # one code put into chunk order (both sides)
_CHUNK = 2e-3  # one chunk's fixed cost (tables, calls)
_PAIR = 1.7e-9  # one pair by brute force (faiss IndexBinaryFlat, SIMD popcounts)
_BATCH = 1 << 22
"""Probe keys handled per numpy call (bounds memory: ~16 bytes each)."""

Pairs = tuple[np.ndarray, np.ndarray]
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Chunk:
    """Bits ``[start, start + width)`` of a code (bit 0: the top bit of byte 0), probed
    within ``radius`` bits."""

    start: int
    width: int
    radius: int


def near_pairs(
    queries: np.ndarray,
    entries: np.ndarray | None,
    radius: int,
    progress: Progress | None = None,
) -> Pairs:
    """Index pairs ``(q, e)`` with ``hamming(queries[q], entries[e]) <= radius``.

    Args:
        queries: ``(n, bytes)`` uint8 codes.
        entries: ``(m, bytes)`` uint8 codes, or ``None`` for the pairs within ``queries``
            (each unordered pair once, ``q < e``; a code is not paired with itself).
        radius: Largest Hamming distance returned (inclusive).
        progress: Called with ``(chunks searched, chunks)`` as the search goes.

    Returns:
        Two int64 arrays of equal length, sorted by ``(q, e)``, no pair twice.
    """
    self_join = entries is None
    others = queries if entries is None else entries
    if len(queries) == 0 or len(others) == 0:
        return np.array([], np.int64), np.array([], np.int64)
    bits = queries.shape[1] * 8
    chunks = plan(bits, radius, len(queries), len(others))
    if chunks is None:
        q, e = _brute(queries, others, radius)
    elif len(queries) <= len(others) or self_join:
        q, e = _multi_index(_words(queries), _words(others), chunks, radius, self_join, progress)
    else:  # probe with the smaller side: probes cost per probing code, buckets do not
        e, q = _multi_index(_words(others), _words(queries), chunks, radius, False, progress)
    if self_join:
        q, e = np.minimum(q, e), np.maximum(q, e)
        keep = q != e
        q, e = q[keep], e[keep]
    return _unique_pairs(q, e, len(others))


def plan(bits: int, radius: int, probes: int, indexed: int) -> list[Chunk] | None:
    """The cheapest exact chunking by the cost model, or ``None`` when brute force is cheaper.

    Chunk counts from the fewest that keep chunks at most ``MAX_WIDTH`` bits up to one bit
    per chunk are tried; for each, the ``radius + 1`` units of ``sum(t_i + 1)`` go to the
    chunks as evenly as possible, the widest first (module doc).
    """
    smaller, larger = min(probes, indexed), max(probes, indexed)
    best, best_cost = None, _PAIR * probes * indexed
    for count in range(math.ceil(bits / MAX_WIDTH), bits + 1):
        chunks = split(bits, count, radius)
        cost = sum(_chunk_cost(c, smaller, larger) for c in chunks if c.radius >= 0)
        if cost < best_cost:
            best, best_cost = [c for c in chunks if c.radius >= 0], cost
    return best


def split(bits: int, count: int, radius: int) -> list[Chunk]:
    """``count`` contiguous chunks (widths differ by at most one, wider first) sharing
    ``radius + 1`` probe units: ``sum(t_i + 1) == radius + 1``."""
    widths = [bits // count + (i < bits % count) for i in range(count)]
    units = [(radius + 1) // count + (i < (radius + 1) % count) for i in range(count)]
    starts = np.cumsum([0, *widths[:-1]])
    return [Chunk(int(s), w, u - 1) for s, w, u in zip(starts, widths, units, strict=True)]


def _chunk_cost(chunk: Chunk, probes: int, indexed: int) -> float:
    keys = _ball(chunk.width, chunk.radius)
    candidates = keys * probes * indexed / (1 << chunk.width)
    setup = _CHUNK + _SORT * (probes + indexed)
    # Few probes in a wide table: each read is a cache miss, not the next line (measured
    # ~5x slower at 100k probes in 2^24 slots than at 1M).
    sparse = min(8.0, max(1.0, (1 << chunk.width) / (8 * probes)))
    return keys * probes * _PROBE * sparse + candidates * _CANDIDATE + setup


def _ball(width: int, radius: int) -> int:
    """Keys within ``radius`` bits of a ``width``-bit key."""
    return sum(math.comb(width, k) for k in range(radius + 1))


def _masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit mask with at most ``radius`` bits set (the probe offsets)."""
    masks = [0]
    for k in range(1, radius + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(width), k)]
    return np.array(masks, np.uint32)


def _words(codes: np.ndarray) -> np.ndarray:
    """``(n, bytes)`` uint8 -> ``(n, bytes / 8)`` uint64, byte 0 in the top bits of word 0."""
    return np.ascontiguousarray(codes).view(">u8").astype(np.uint64)


def _values(words: np.ndarray, chunk: Chunk) -> np.ndarray:
    """Each code's ``chunk`` bits as a uint32 key."""
    word, offset = divmod(chunk.start, 64)
    end = offset + chunk.width
    if end <= 64:
        value = words[:, word] >> np.uint64(64 - end)
    else:  # the chunk spans two words: the low bits of one, the top bits of the next
        spill = end - 64
        value = (words[:, word] << np.uint64(spill)) | (words[:, word + 1] >> np.uint64(64 - spill))
    return (value & np.uint64((1 << chunk.width) - 1)).astype(np.uint32)


def _multi_index(
    probe: np.ndarray,
    index: np.ndarray,
    chunks: list[Chunk],
    radius: int,
    self_join: bool,
    progress: Progress | None = None,
) -> Pairs:
    """Pairs (probe row, index row) within ``radius``, found chunk by chunk (may repeat).

    Chunks are independent; numpy releases the GIL in its loops, so two threads keep
    both cores busy.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(chunk: Chunk) -> Pairs:
        return _probe_chunk(probe, index, chunk, radius, self_join)

    found: list[Pairs] = []
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        for pairs in pool.map(one, chunks):
            found.append(pairs)
            if progress is not None:
                progress(len(found), len(chunks))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _probe_chunk(
    probe: np.ndarray, index: np.ndarray, chunk: Chunk, radius: int, self_join: bool
) -> Pairs:
    """Pairs within ``radius`` whose ``chunk`` values are within ``chunk.radius`` bits."""
    buckets = _Buckets(_values(index, chunk), chunk.width)
    probe_values = _values(probe, chunk)
    probe_order = np.argsort(probe_values)
    sorted_values = probe_values[probe_order]
    index_order = buckets.order
    # Word columns in chunk order: a probe's candidates sit near the previous probe's.
    rows = [probe[:, k][probe_order] for k in range(probe.shape[1])]
    index_rows = [index[:, k][index_order] for k in range(index.shape[1])]
    masks = _masks(chunk.width, chunk.radius)
    n = len(sorted_values)
    step = max(1, _BATCH // n)
    out_p: list[np.ndarray] = []
    out_i: list[np.ndarray] = []
    for first in range(0, len(masks), step):
        keys = (sorted_values[None, :] ^ masks[first : first + step, None]).ravel()
        state = buckets.state[keys]
        hit = np.flatnonzero(state != 0)  # numpy's fast path is for booleans
        if hit.size == 0:
            continue
        p, i = buckets.expand(hit % n, keys[hit], state[hit])
        if self_join:  # each unordered pair once: both directions are probed
            keep = probe_order[p] < index_order[i]
            p, i = p[keep], i[keep]
        p, i = _close(rows, index_rows, p, i, radius)
        out_p.append(probe_order[p])
        out_i.append(index_order[i])
    if not out_p:
        return np.array([], np.int64), np.array([], np.int64)
    return np.concatenate(out_p).astype(np.int64), np.concatenate(out_i).astype(np.int64)


def _close(
    rows: list[np.ndarray], index_rows: list[np.ndarray], p: np.ndarray, i: np.ndarray,
    radius: int,
) -> Pairs:
    """The candidate pairs within ``radius``, word by word: after the first words almost
    every unrelated pair is already farther than ``radius`` and is dropped."""
    distance = np.zeros(len(p), np.uint16)
    for word, index_word in zip(rows, index_rows, strict=True):
        distance += np.bitwise_count(word[p] ^ index_word[i])
        keep = np.flatnonzero(distance <= radius)
        if len(keep) < len(p):
            p, i, distance = p[keep], i[keep], distance[keep]
    return p, i


class _Buckets:
    """The indexed codes of one chunk, by chunk value (direct addressing).

    ``state`` (one byte a slot: 0 empty, 1 one code, 2 several) is what every probe
    reads; ``start`` is read only for occupied slots, and the rare buckets of several
    codes keep their sizes aside. The ``start`` table's pages are written only at
    occupied slots, so untouched ones are never mapped.
    """

    def __init__(self, values: np.ndarray, width: int) -> None:
        self.order = np.argsort(values)
        ordered = values[self.order]
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
        distinct = ordered[starts]
        counts = np.diff(np.concatenate([starts, [len(values)]]))
        self.state = np.zeros(1 << width, np.uint8)
        self.state[distinct] = np.minimum(counts, 2)
        self.start = np.empty(1 << width, np.int32)
        self.start[distinct] = starts
        several = counts > 1
        self.several_keys, self.several_counts = distinct[several], counts[several]

    def expand(self, probes: np.ndarray, keys: np.ndarray, state: np.ndarray) -> Pairs:
        """(probe, position in ``order``) for every code in each (occupied) probed bucket."""
        start = self.start[keys]
        several = np.flatnonzero(state == 2)
        if several.size == 0:
            return probes, start
        count = np.ones(len(keys), np.int64)
        found = np.searchsorted(self.several_keys, keys[several])
        count[several] = self.several_counts[found]
        total = int(count.sum())
        before = np.cumsum(count) - count
        within = np.arange(total) - np.repeat(before, count)
        return np.repeat(probes, count), np.repeat(start, count) + within


def _unique_pairs(q: np.ndarray, e: np.ndarray, others: int) -> Pairs:
    key = np.unique(q.astype(np.int64) * others + e)
    return key // others, key % others


def _brute(queries: np.ndarray, entries: np.ndarray, radius: int) -> Pairs:
    """Every pair by faiss's SIMD popcounts: cheaper than the multi-index for small inputs."""
    index = flat_index(entries)
    limits, _, found = index.range_search(queries, radius + 1)  # faiss: distance < radius
    counts = np.diff(limits.astype(np.int64))
    return np.repeat(np.arange(len(queries), dtype=np.int64), counts), found.astype(np.int64)


def flat_index(codes: np.ndarray) -> Any:
    """A faiss brute-force Hamming index over ``(n, bytes)`` uint8 codes."""
    import faiss

    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(codes)
    return index


def unique_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct codes, the first row of each, and each row's distinct code.

    Grouping links equal codes directly and searches only distinct ones: a hash shared
    by k samples (a placeholder image) would otherwise yield k^2 candidate pairs.
    """
    rows = np.ascontiguousarray(codes).view(np.dtype((np.void, codes.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return codes[first], first, inverse.ravel()
