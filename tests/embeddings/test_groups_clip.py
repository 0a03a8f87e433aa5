"""``reviewer groups --by clip``: near-duplicate groups by image-embedding cosine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.embeddings.index import VectorIndex
from reviewer.embeddings.sets import EmbeddingsFolder
from reviewer.review.groups import by_sample, load_groups

from .conftest import clustered, ingest_laion, invoke, metadata_table


def _at_cosine(base: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly ``cosine`` from the unit vector ``base``."""
    noise = rng.standard_normal(base.shape)
    noise -= (noise @ base) * base
    noise /= np.linalg.norm(noise)
    return cosine * base + np.sqrt(1 - cosine**2) * noise


def _write(root: Path, vectors: np.ndarray) -> None:
    (root / "metadata").mkdir(parents=True)
    (root / "img_emb").mkdir()
    pq.write_table(metadata_table(len(vectors)), root / "metadata" / "metadata_0.parquet")
    np.save(root / "img_emb" / "img_emb_0.npy", vectors.astype(np.float16))


@pytest.fixture
def planted(tmp_path: Path, audit_dir: Path) -> tuple[Path, np.ndarray]:
    """60 clustered vectors (cosine ~0.7 within a cluster), then planted copies:
    60 at 0.99 of 0, 61 at 0.96 of 60 (a chain: 0-60-61), 62 at 0.95 of 5, 63 at 0.92 of 7
    (below 0.94: not grouped), 64 equal to 9."""
    rng = np.random.default_rng(4)
    base = clustered(60, 64, seed=2).astype(np.float64)
    extra = [
        _at_cosine(base[0], 0.99, rng),
    ]
    extra.append(_at_cosine(extra[0], 0.96, rng))
    extra += [_at_cosine(base[5], 0.95, rng), _at_cosine(base[7], 0.92, rng), base[9]]
    vectors = np.concatenate([base, np.stack(extra)])
    _write(tmp_path / "laion", vectors)
    ran = ingest_laion(audit_dir, tmp_path / "laion", "--embedding-model", "ViT-B-32/openai")
    assert ran.code == 0, ran.err
    return audit_dir, vectors.astype(np.float16).astype(np.float32)


def _brute_groups(vectors: np.ndarray, cosine: float) -> set[frozenset[str]]:
    """Independent: every pair's cosine, then components by repeated merging."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    close = np.argwhere(np.triu(unit @ unit.T >= cosine, k=1))
    groups: list[set[int]] = []
    for a, b in close.tolist():
        touching = [g for g in groups if a in g or b in g]
        merged = {a, b}.union(*touching)
        groups = [g for g in groups if g not in touching] + [merged]
    return {frozenset(str(i) for i in g) for g in groups}


def _stored(audit_dir: Path) -> set[frozenset[str]]:
    audit = Audit.open(audit_dir)
    try:
        members = audit.store.groups.members("clip")
    finally:
        audit.close()
    return {frozenset(ids) for _, ids in by_sample(members).values()}


def test_planted_near_duplicates_are_grouped_and_others_not(planted) -> None:  # type: ignore[no-untyped-def]
    audit_dir, vectors = planted
    ran = invoke("groups", audit_dir, "--by", "clip")
    assert ran.code == 0, ran.err
    expected = {frozenset({"0", "60", "61"}), frozenset({"5", "62"}), frozenset({"9", "64"})}
    assert _stored(audit_dir) == expected == _brute_groups(vectors, 0.94)
    assert "clip: 7 of 65 embedded samples in 3 groups of 2 or more (largest 3)" in ran.out
    # A lower threshold takes in the pair at 0.92; a re-run replaces the grouping.
    assert invoke("groups", audit_dir, "--by", "clip", "--cosine", "0.91").code == 0
    assert frozenset({"7", "63"}) in _stored(audit_dir) == _brute_groups(vectors, 0.91)


def test_through_a_built_index_the_same_groups(planted) -> None:  # type: ignore[no-untyped-def]
    audit_dir, vectors = planted
    built = invoke("index", audit_dir, "--kind", "hnsw")
    assert built.code == 0, built.err
    audit = Audit.open(audit_dir)
    try:
        vector_set = EmbeddingsFolder(audit.paths.embeddings).choose(None, "image")
        assert VectorIndex.open(vector_set).kind == "hnsw"  # the indexed path, not exact
    finally:
        audit.close()
    ran = invoke("groups", audit_dir, "--by", "clip")
    assert ran.code == 0, ran.err
    assert _stored(audit_dir) == _brute_groups(vectors, 0.94)


def test_the_review_decides_the_newer_perceptual_grouping(planted) -> None:  # type: ignore[no-untyped-def]
    audit_dir, _ = planted
    assert invoke("groups", audit_dir, "--by", "clip").code == 0
    audit = Audit.open(audit_dir)
    try:
        group = load_groups(audit).of("62")
        assert group is not None and group[0].startswith("clip-") and group[1] == ("5", "62")
    finally:
        audit.close()


def test_no_embeddings_bad_cosine_and_non_unit_vectors_are_one_line(
    tmp_path: Path, audit_dir: Path
) -> None:
    ran = invoke("groups", audit_dir, "--by", "clip")
    assert ran.code != 0 and ran.err.startswith("error: ") and "no image embeddings" in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    rng = np.random.default_rng(0)
    _write(tmp_path / "raw", rng.standard_normal((20, 64)) * 3)
    model = ("--embedding-model", "ViT-B-32/openai")
    assert ingest_laion(audit_dir, tmp_path / "raw", *model).code == 0
    for cosine in ("1.5", "0", "-0.2"):
        bad = invoke("groups", audit_dir, "--by", "clip", "--cosine", cosine)
        assert bad.code != 0 and bad.err.startswith(f"error: --cosine {float(cosine)}")
    ran = invoke("groups", audit_dir, "--by", "clip")
    assert ran.code != 0 and "not unit vectors" in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    assert _stored(audit_dir) == set()


def test_too_many_vectors_without_an_index_is_refused(
    planted, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    audit_dir, _ = planted
    monkeypatch.setattr("reviewer.embeddings.neighbours.EXACT_BELOW", 50)
    ran = invoke("groups", audit_dir, "--by", "clip")
    assert ran.code != 0 and "65 embeddings and no vector index" in ran.err
    assert "reviewer index DIR" in ran.err and len(ran.err.strip().splitlines()) == 1
