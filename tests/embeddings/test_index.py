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


def test_a_build_removes_folders_of_killed_builds_only(tmp_path: Path) -> None:
    """A build killed by a signal leaves ``index.<pid>.tmp/``; the next build deletes it,
    but never the folder of a build still running."""
    import os
    import subprocess

    stored, _ = _set(tmp_path / "set", [300])
    dead = subprocess.Popen(["true"])  # a process that has exited: its pid is free
    dead.wait()
    abandoned = stored.folder / f"index.{dead.pid}.tmp"
    running = stored.folder / f"index.{os.getppid()}.tmp"
    for folder in (abandoned, running):
        folder.mkdir()
        (folder / "part").write_bytes(b"x" * 1024)
    build_index(stored)
    assert not abandoned.exists()
    assert (running / "part").exists()


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


def test_inverted_lists_grow_as_four_root_n() -> None:
    """4 sqrt(N) rounded to a power of two (1M -> 4,000 -> 4,096), within 64 and 2**18."""
    for vectors in (20_000, 1_000_000, 10_000_000, 413_000_000, 2_320_000_000):
        lists = index_module.ivf_lists(vectors)
        assert lists & (lists - 1) == 0  # a power of two
        assert lists / 2**0.5 <= 4 * vectors**0.5 <= lists * 2**0.5
    assert index_module.ivf_lists(10_000_000) == 16_384  # not the old 4,096 cap
    assert index_module.ivf_lists(100) == 64
    assert index_module.ivf_lists(10**12) == 2**18


def test_training_sample_is_bounded_and_spread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("faiss")
    stored, _ = _set(tmp_path / "set", [12_000, 12_000], dim=32)
    monkeypatch.setattr(index_module, "TRAIN_MAX", 9_000)
    info = build_index(stored, "ivfpq", threads=1, recall_queries=5)
    assert info.params["nlist"] == 512 and info.params["train_vectors"] <= 9_000
    sample = index_module._training_sample(stored, 9_000)
    assert len(sample) > 8_000
    # Drawn over both parts, not the first 9,000 rows.
    second = stored.vectors(stored.parts[1]).astype(np.float32)
    assert (np.abs(sample[:, None, :5] - second[None, :200, :5]).sum(axis=2) < 1e-6).any()


def test_reranking_lifts_ivfpq_recall(tmp_path: Path) -> None:
    """recall@100 against the test's own exact top-100, with and without exact re-ranking."""
    pytest.importorskip("faiss")
    stored, data = _set(tmp_path / "set", [12_000, 12_000], dim=64)
    build_index(stored, "ivfpq", threads=1, recall_queries=5)
    index = VectorIndex.open(stored)
    queries = data[[11, 4_000, 13_000, 23_000]] + 0.05

    def recall() -> float:
        _, rows = index.search(queries, 100)
        return float(
            np.mean(
                [
                    len(set(r.tolist()) & set(_numpy_top(data, q, 100))) / 100
                    for r, q in zip(rows, queries, strict=True)
                ]
            )
        )

    index.tune(candidates=0)
    codes_only = recall()
    index.tune()
    reranked = recall()
    # 64-d vectors get 8-byte codes (PQ8): they alone recall ~0.46, re-ranked ~0.91-0.95.
    assert reranked >= 0.9 and reranked > codes_only + 0.2
    index.tune(nprobe=1, candidates=0)
    assert recall() < codes_only  # one list of 512 cannot hold every neighbour
