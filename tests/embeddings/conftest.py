"""LAION-shaped shards with embedding arrays, written the way LAION releases them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import Ran
from conftest import run_cli as invoke


def metadata_table(n: int, start: int = 0) -> pa.Table:
    """LAION-400M-shaped rows with SAMPLE_IDs start..start+n-1."""
    ids = range(start, start + n)
    return pa.table(
        {
            "SAMPLE_ID": pa.array(ids, pa.int64()),
            "URL": [f"https://example.org/{i}.jpg" for i in ids],
            "TEXT": [f"caption {i}" for i in ids],
            "NSFW": [("UNLIKELY", "UNSURE", "NSFW")[i % 3] for i in ids],
        }
    )


def clustered(n: int, dim: int, seed: int, clusters: int = 8) -> np.ndarray:
    """Unit vectors around a few centres (float32), like CLIP embeddings cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.7 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def write_shards(root: Path, sizes: list[int], dim: int = 512, seed: int = 0) -> list[np.ndarray]:
    """``metadata/metadata_{i}.parquet`` and ``img_emb/img_emb_{i}.npy`` (float16)."""
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    (root / "img_emb").mkdir(exist_ok=True)
    arrays, start = [], 0
    for i, n in enumerate(sizes):
        pq.write_table(metadata_table(n, start), root / "metadata" / f"metadata_{i}.parquet")
        vectors = clustered(n, dim, seed + i).astype(np.float16)
        np.save(root / "img_emb" / f"img_emb_{i}.npy", vectors)
        arrays.append(vectors)
        start += n
    return arrays


def ingest_laion(audit: Path, root: Path, *extra: object) -> Ran:
    """``reviewer ingest AUDIT ROOT/metadata --embeddings ROOT/img_emb [EXTRA…]``."""
    return invoke("ingest", audit, root / "metadata", "--embeddings", root / "img_emb", *extra)


@pytest.fixture
def shards(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    return tmp_path / "laion", write_shards(tmp_path / "laion", [30, 20])


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    path = tmp_path / "audit"
    assert invoke("init", path).code == 0
    return path
