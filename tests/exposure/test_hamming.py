"""Exact Hamming range search (:mod:`reviewer.hamming`) against faiss brute force.

Random 256-bit codes (as PDQ hashes of unrelated images are) with planted near pairs at
every distance from 0 to 40, so pairs exactly at the radius and one bit beyond it are
always present. Brute force is an independent implementation: faiss ``IndexBinaryFlat``
checks every pair.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reviewer import hamming
from reviewer.hamming import near_pairs, plan, split, unique_codes


def _flip(code: np.ndarray, bits: np.ndarray) -> np.ndarray:
    out = code.copy()
    for bit in bits:
        out[bit // 8] ^= np.uint8(1 << (7 - bit % 8))
    return out


def _codes(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` queries, ``m`` entries; queries 0, 1, ... are entries at distance 0..40."""
    rng = np.random.default_rng(seed)
    queries = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    entries = rng.integers(0, 256, (m, 32), dtype=np.uint8)
    for k in range(min(n, 123)):
        distance = k % 41
        target = int(rng.integers(m))
        queries[k] = _flip(entries[target], rng.choice(256, distance, replace=False))
    return queries, entries


def _brute(queries: np.ndarray, entries: np.ndarray, radius: int) -> set[tuple[int, int]]:
    index = hamming.flat_index(entries)
    limits, _, found = index.range_search(queries, radius + 1)
    return {(q, int(e)) for q in range(len(queries)) for e in found[limits[q] : limits[q + 1]]}


def _pairs(found: tuple[np.ndarray, np.ndarray]) -> set[tuple[int, int]]:
    return set(zip(found[0].tolist(), found[1].tolist(), strict=True))


@pytest.mark.parametrize("radius", [31, 16, 5, 0])
@pytest.mark.parametrize("count", [11, 12, 16, 40])
def test_every_exact_chunking_finds_exactly_the_brute_force_pairs(
    radius: int, count: int
) -> None:
    queries, entries = _codes(600, 900, seed=radius * 100 + count)
    chunks = [c for c in split(256, count, radius) if c.radius >= 0]
    assert sum(c.radius + 1 for c in chunks) == radius + 1  # the pigeonhole condition
    words = hamming._words
    found = hamming._multi_index(words(queries), words(entries), chunks, radius, False)
    expected = _brute(queries, entries, radius)
    assert _pairs(found) == expected
    planted = {(k, e) for k, e in expected if k < 123}
    assert len(planted) >= sum(k % 41 <= radius for k in range(123))


def test_pairs_at_31_are_found_and_at_32_not() -> None:
    rng = np.random.default_rng(7)
    entries = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    at_31 = np.stack([_flip(entries[i], rng.choice(256, 31, replace=False)) for i in range(50)])
    at_32 = np.stack([_flip(entries[i], rng.choice(256, 32, replace=False)) for i in range(50)])
    queries = np.concatenate([at_31, at_32])
    chunks = plan(256, 31, 100_000, 100_000)  # the chunking a large search uses
    assert chunks is not None and len(chunks) >= 11
    words = hamming._words
    found = _pairs(hamming._multi_index(words(queries), words(entries), chunks, 31, False))
    assert found == {(i, i) for i in range(50)} == _brute(queries, entries, 31)


def test_near_pairs_probes_with_the_smaller_side_and_agrees_both_ways() -> None:
    queries, entries = _codes(300, 20_000, seed=3)
    expected = _brute(queries, entries, 31)
    assert _pairs(near_pairs(queries, entries, 31)) == expected
    swapped = near_pairs(entries, queries, 31)
    assert {(q, e) for e, q in _pairs(swapped)} == expected


def test_self_join_gives_each_unordered_pair_once() -> None:
    queries, entries = _codes(400, 400, seed=5)
    codes = np.concatenate([queries, entries])
    found = near_pairs(codes, None, 31)
    brute = {(min(a, b), max(a, b)) for a, b in _brute(codes, codes, 31) if a != b}
    assert _pairs(found) == brute
    assert all(a < b for a, b in _pairs(found))
    chunks = plan(256, 31, 100_000, 100_000)
    assert chunks is not None
    words = hamming._words(codes)
    raw = hamming._multi_index(words, words, chunks, 31, True)
    assert {(min(a, b), max(a, b)) for a, b in _pairs(raw)} == brute


def test_plans_are_exact_and_small_inputs_use_brute_force() -> None:
    for radius in (0, 1, 7, 31):
        for probes, indexed in ((10**6, 10**6), (10**5, 10**5), (10**3, 10**6)):
            chunks = plan(256, radius, probes, indexed)
            assert chunks is not None
            assert sum(c.radius + 1 for c in chunks) >= radius + 1
            spans = sorted((c.start, c.start + c.width) for c in chunks)
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
            assert all(c.width <= hamming.MAX_WIDTH for c in chunks)
    assert plan(256, 31, 50, 50) is None


def test_unique_codes_maps_every_row_to_its_distinct_code() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (5, 32), dtype=np.uint8)
    codes = base[[0, 1, 0, 2, 1, 3, 4, 4]]
    distinct, first, inverse = unique_codes(codes)
    assert len(distinct) == 5
    assert (distinct[inverse] == codes).all() and (codes[first] == distinct).all()


def test_empty_inputs() -> None:
    codes = np.zeros((0, 32), np.uint8)
    assert len(near_pairs(codes, None, 31)[0]) == 0
    assert len(near_pairs(codes, np.ones((3, 32), np.uint8), 31)[0]) == 0
