"""The vector index: exact search checked against numpy, recall measured, builds all or nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from reviewer.embeddings import index as index_module
from reviewer.embeddings.index import VectorIndex, build_index, exact_search
from reviewer.embeddings.sets import EmbeddingSet, ModelId
from reviewer.errors import ReviewerError

from .conftest import clustered, ingest_laion, invoke

pytest.importorskip("usearch")
MODEL = ModelId("ViT-B-32", "openai")


def _set(
    folder: Path, sizes: list[int], dim: int = 64, nulls: tuple[int, ...] = ()
) -> tuple[EmbeddingSet, np.ndarray]:
    stored = EmbeddingSet(folder)
    blocks, start = [], 0
    for i, n in enumerate(sizes):
        vectors = clustered(n, dim, seed=i).astype(np.float16)
        ids = [None if start + r in nulls else f"id{start + r}" for r in range(n)]
        stored.add_part(MODEL, "image", f"src{i}", pa.array(ids, pa.string()), vectors=vectors)
        blocks.append(vectors.astype(np.float32))
        start += n
    return stored, np.concatenate(blocks)


def _numpy_top(
    data: np.ndarray, query: np.ndarray, k: int, skip: tuple[int, ...] = ()
) -> list[int]:
    """An independent exact top-k: full scores, excluded rows, stable order."""
    scores = data.astype(np.float16).astype(np.float32) @ query
    scores[list(skip)] = -np.inf
    return list(np.argsort(-scores, kind="stable")[:k])


def test_exact_search_matches_numpy_across_parts(tmp_path: Path) -> None:
    stored, data = _set(tmp_path / "set", [300, 200, 150], nulls=(5, 320))
    query = data[10]
    scores, rows = exact_search(stored, query[None, :], 20)
    expected = _numpy_top(data, query, 20, skip=(5, 320))
    assert set(rows[0].tolist()) == set(expected)
    assert 5 not in rows[0] and 320 not in rows[0]
    assert np.all(np.diff(scores[0]) <= 1e-6)  # best first
    assert rows[0][0] == 10


@pytest.mark.parametrize("kind", ["ivfpq", "hnsw"])
def test_approximate_index_recall_is_measured_against_exact(tmp_path: Path, kind: str) -> None:
    if kind == "ivfpq":
        pytest.importorskip("faiss")
    sizes = [11_000, 9_000] if kind == "ivfpq" else [3000, 2000]
    stored, data = _set(tmp_path / "set", sizes, dim=32)
    info = build_index(stored, kind, threads=1)
    assert info.kind == kind and info.rows == sum(sizes)
    assert info.recall_k == 100 and info.recall_at_k is not None and info.recall_at_k >= 0.9
    index = VectorIndex.open(stored)
    assert index.kind == kind
    # Recomputed here with the test's own exact top-100.
    queries = data[[7, 1234, 4321]] + 0.05  # near, not on, stored vectors
    _, rows = index.search(queries, 100)
    recall = np.mean(
        [
            len(set(r.tolist()) & set(_numpy_top(data, q, 100))) / 100
            for r, q in zip(rows, queries, strict=True)
        ]
    )
    assert recall >= 0.9


def test_small_sets_default_to_exact_search(tmp_path: Path) -> None:
    stored, _ = _set(tmp_path / "set", [100])
    info = build_index(stored)
    assert info.kind == "flat" and info.recall_at_k is None
    assert VectorIndex.open(stored).kind == "flat"
    with pytest.raises(ReviewerError, match="too few to train"):
        build_index(stored, "ivfpq")


def test_failed_build_keeps_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored, data = _set(tmp_path / "set", [2000])
    build_index(stored, "hnsw")
    before = (stored.folder / "index" / "index.json").read_text()

    def broken(vectors, folder, progress, threads):  # type: ignore[no-untyped-def]
        (folder / "hnsw.usearch").write_bytes(b"half an index")
        raise MemoryError

    monkeypatch.setitem(index_module._BUILDERS, "hnsw", broken)
    with pytest.raises(ReviewerError) as failed:
        build_index(stored, "hnsw")
    assert "previous index" in failed.value.one_line()
    assert (stored.folder / "index" / "index.json").read_text() == before
    assert not list(stored.folder.glob("index.*.tmp"))
    _, rows = VectorIndex.open(stored).search(data[[3]], 10)
    assert rows[0][0] == 3


def test_an_index_older_than_the_vectors_is_not_used(tmp_path: Path) -> None:
    stored, _ = _set(tmp_path / "set", [2000])
    build_index(stored, "hnsw")
    stored.add_part(MODEL, "image", "more", pa.array(["x", "y"]), vectors=clustered(2, 64, 9))
    assert VectorIndex.open(EmbeddingSet(stored.folder)).kind == "flat"


def test_index_cli_prints_recall(tmp_path: Path) -> None:
    from .conftest import write_shards

    audit = tmp_path / "audit"
    invoke("init", audit)
    write_shards(tmp_path / "laion", [1500, 1500])
    ingest_laion(audit, tmp_path / "laion")
    result = invoke("index", audit, "--kind", "hnsw")
    assert result.code == 0, result.err
    assert "indexed 3,000 512-d vectors" in result.out
    assert "recall@100 against exact search: " in result.out
    empty = tmp_path / "empty"
    invoke("init", empty)
    refused = invoke("index", empty)
    assert refused.code != 0 and refused.err.startswith("error: ")
    assert "no image embeddings" in refused.err
