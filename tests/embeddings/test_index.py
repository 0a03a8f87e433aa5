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
    # >= 0.85: the tiny codes of 32-d vectors (4 bytes) over 128 lists; 512-d vectors get
    # 64-byte codes and recall ~0.96 (benchmarks/bench_probe.py).
    assert info.recall_k == 100 and info.recall_at_k is not None and info.recall_at_k >= 0.85
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
    assert recall >= 0.85


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


def test_inverted_lists_grow_as_root_n_and_training_stays_sane() -> None:
    """sqrt(N) rounded to a power of two (10M -> 3,162 -> 4,096), within 64 and 2**18; the
    training sample stays 16 a list or more up to LAION-2B-en and under its cap."""
    for vectors in (20_000, 1_000_000, 10_000_000, 413_000_000, 2_320_000_000):
        lists = index_module.ivf_lists(vectors)
        assert lists & (lists - 1) == 0  # a power of two
        assert lists / 2**0.5 <= vectors**0.5 <= lists * 2**0.5
        sample = index_module.training_size(vectors, lists)
        assert sample <= index_module.TRAIN_MAX and sample >= min(vectors, 16 * lists)
    assert index_module.ivf_lists(10_000_000) == 4_096
    assert index_module.ivf_lists(2_320_000_000) == 65_536
    assert index_module.training_size(2_320_000_000, 65_536) == 2**20
    assert index_module.training_size(30_000, 128) == 30_000
    assert index_module.ivf_lists(100) == 64
    assert index_module.ivf_lists(10**12) == 2**18


def test_training_sample_is_bounded_and_spread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("faiss")
    stored, _ = _set(tmp_path / "set", [12_000, 12_000], dim=32)
    monkeypatch.setattr(index_module, "TRAIN_MAX", 9_000)
    info = build_index(stored, "ivfpq", threads=1, recall_queries=5)
    assert info.params["nlist"] == 128 and info.params["train_vectors"] <= 9_000
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
    # 64-d vectors get 8-byte codes (PQ8) over 128 lists: they alone recall ~0.4,
    # re-ranked ~0.88.
    assert reranked >= 0.85 and reranked > codes_only + 0.2
    index.tune(nprobe=1, candidates=0)
    assert recall() < codes_only  # one list of 128 cannot hold every neighbour


def test_ivfpq_built_in_shards_searches_like_one_shot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards written to disk and merged into on-disk lists give the one-shot index's answers."""
    pytest.importorskip("faiss")
    stored, data = _set(tmp_path / "set", [13_000, 12_000], dim=32, nulls=(17, 13_005))
    queries = data[[11, 4_000, 13_001, 24_000]] + 0.05

    def build(shard_rows: int) -> tuple[dict, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        monkeypatch.setattr(index_module, "SHARD_ROWS", shard_rows)
        info = build_index(stored, "ivfpq", threads=1, recall_queries=5)
        index = VectorIndex.open(EmbeddingSet(stored.folder))
        index.tune(candidates=0)  # the codes' own order: any difference in the lists shows
        scores, rows = index.search(queries, 100)
        return info.params, scores, rows

    one, one_scores, one_rows = build(1 << 30)
    sharded, scores, rows = build(4_000)
    # Blocks of 4,000 rows (13,000 + 12,000, two without a sample): a shard is written
    # once it holds 4,000 or more.
    assert one["shards"] == 1 and sharded["shards"] == 5
    assert sorted(p.name for p in (stored.folder / "index").iterdir()) == [
        "index.json",
        "ivfpq.faiss",
        "ivfpq.ivfdata",
    ]
    np.testing.assert_array_equal(rows, one_rows)
    np.testing.assert_allclose(scores, one_scores, rtol=1e-5)
    assert 17 not in rows and 13_005 not in rows


def test_inverted_lists_are_found_beside_the_index_after_the_rename(tmp_path: Path) -> None:
    """The on-disk lists file is named inside ``index.<pid>.tmp/``; the index still opens
    from ``index/``, and after the whole set folder moved."""
    pytest.importorskip("faiss")
    stored, data = _set(tmp_path / "set", [21_000], dim=32)
    build_index(stored, "ivfpq", threads=1, recall_queries=5)
    assert not list(stored.folder.glob("index.*"))  # no tmp or old folder left
    moved = tmp_path / "moved"
    stored.folder.rename(moved)
    _, rows = VectorIndex.open(EmbeddingSet(moved)).search(data[[5, 20_000]], 10)
    assert rows[0][0] == 5 and rows[1][0] == 20_000


def test_failed_merge_keeps_the_previous_ivfpq_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("faiss")
    import faiss.contrib.ondisk

    stored, data = _set(tmp_path / "set", [21_000], dim=32)
    build_index(stored, "ivfpq", threads=1, recall_queries=5)
    before = (stored.folder / "index" / "ivfpq.ivfdata").read_bytes()

    def full_disk(trained, shards, ivfdata):  # type: ignore[no-untyped-def]
        Path(ivfdata).write_bytes(b"half the lists")
        raise RuntimeError("No space left on device")

    monkeypatch.setattr(faiss.contrib.ondisk, "merge_ondisk", full_disk)
    monkeypatch.setattr(index_module, "SHARD_ROWS", 8_000)
    with pytest.raises(ReviewerError, match="No space left"):
        build_index(stored, "ivfpq", threads=1, recall_queries=5)
    assert (stored.folder / "index" / "ivfpq.ivfdata").read_bytes() == before
    assert not list(stored.folder.glob("index.*.tmp"))
    _, rows = VectorIndex.open(stored).search(data[[3]], 10)
    assert rows[0][0] == 3


KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from reviewer.embeddings import index
from reviewer.embeddings.sets import EmbeddingSet
index.SHARD_ROWS = 8_000
def die(done, total):
    if done > 16_000:  # two shards of 8,000 on disk, the third being added
        os.kill(os.getpid(), signal.SIGKILL)
index.build_index(EmbeddingSet(Path(sys.argv[1])), "ivfpq", die, threads=1)
"""


def test_a_killed_ivfpq_build_leaves_the_previous_index(tmp_path: Path) -> None:
    """kill -9 while shards are on disk: the old index answers; the next build cleans up."""
    pytest.importorskip("faiss")
    import subprocess
    import sys

    stored, data = _set(tmp_path / "set", [21_000], dim=32)
    build_index(stored, "hnsw")
    import os

    root = str(Path(index_module.__file__).parents[2])  # this checkout's reviewer
    env = {**os.environ, "PYTHONPATH": root}
    killed = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(stored.folder)], env=env)
    assert killed.returncode == -9
    (left,) = stored.folder.glob("index.*.tmp")
    assert len(list(left.glob("shard-*.faiss"))) == 2
    index = VectorIndex.open(EmbeddingSet(stored.folder))
    assert index.kind == "hnsw"
    assert index.search(data[[3]], 10)[1][0][0] == 3
    build_index(stored, "ivfpq", threads=1, recall_queries=5)
    assert not left.exists()
    assert VectorIndex.open(EmbeddingSet(stored.folder)).kind == "ivfpq"
