"""Embeddings enter the audit aligned file by file, or not at all (one line, exit != 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reviewer.audit import Audit
from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

from .conftest import ingest_laion, invoke, write_shards


def _set(audit_dir: Path, model: str = "ViT-B-32/openai"):  # type: ignore[no-untyped-def]
    return EmbeddingsFolder(audit_dir / "embeddings").get(ModelId.parse(model))


def _sample_count(audit_dir: Path) -> int:
    audit = Audit.open(audit_dir)
    try:
        return int(audit.store.scalar("SELECT count(*) FROM samples"))
    finally:
        audit.close()


def _refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for word in words:
        assert word in lines[0]


def test_arrays_pair_with_metadata_by_shard_index(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, arrays = shards
    result = ingest_laion(audit_dir, root)
    assert result.code == 0, result.err
    assert "embedded" in result.out and "ViT-B-32/openai" in result.out
    stored = _set(audit_dir)
    assert stored.dim == 512 and stored.rows == 50 and len(stored.parts) == 2
    # Sample 37 is row 7 of metadata_1.parquet: its vector is row 7 of img_emb_1.npy.
    for sample_id, shard, row in (("37", 1, 7), ("0", 0, 0), ("29", 0, 29), ("49", 1, 19)):
        found = stored.row_of(sample_id)
        assert found is not None
        np.testing.assert_array_equal(
            stored.vector_at(found), arrays[shard][row].astype(np.float32)
        )
    # Re-ingesting adds nothing, to the samples or the vectors.
    again = ingest_laion(audit_dir, root)
    assert again.code == 0 and "already stored" in again.out
    assert _set(audit_dir).rows == 50 and _sample_count(audit_dir) == 50


def test_one_file_pairs_with_one_array(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, arrays = shards
    result = invoke(
        "ingest",
        audit_dir,
        root / "metadata" / "metadata_1.parquet",
        "--embeddings",
        root / "img_emb" / "img_emb_1.npy",
    )
    assert result.code == 0, result.err
    stored = _set(audit_dir)
    found = stored.row_of("30")
    assert found == 0
    np.testing.assert_array_equal(stored.vector_at(0), arrays[1][0].astype(np.float32))


def test_one_array_for_two_files_is_refused(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, _ = shards
    result = invoke(
        "ingest", audit_dir, root / "metadata", "--embeddings", root / "img_emb" / "img_emb_0.npy"
    )
    _refused(result, "one array for 2 metadata files")
    assert _sample_count(audit_dir) == 0


def test_count_mismatch_refuses_everything(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, arrays = shards
    np.save(root / "img_emb" / "img_emb_1.npy", arrays[1][:-1])  # one vector short
    result = ingest_laion(audit_dir, root)
    _refused(result, "19 vectors for 20 rows", "img_emb_1.npy")
    assert _sample_count(audit_dir) == 0
    assert not (audit_dir / "embeddings").exists() or not _set(audit_dir).exists


def test_missing_array_is_refused(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, _ = shards
    (root / "img_emb" / "img_emb_1.npy").unlink()
    result = ingest_laion(audit_dir, root)
    _refused(result, "metadata_1.parquet", "no array numbered 1")
    assert _sample_count(audit_dir) == 0


def test_truncated_array_is_refused(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, _ = shards
    path = root / "img_emb" / "img_emb_0.npy"
    path.write_bytes(path.read_bytes()[:-100])
    result = ingest_laion(audit_dir, root)
    _refused(result, "truncated")
    assert _sample_count(audit_dir) == 0


@pytest.mark.parametrize("dtype", [np.float64, np.int8])
def test_other_dtypes_are_refused(audit_dir: Path, shards, dtype) -> None:  # type: ignore[no-untyped-def]
    root, arrays = shards
    np.save(root / "img_emb" / "img_emb_0.npy", arrays[0].astype(dtype))
    result = ingest_laion(audit_dir, root)
    _refused(result, "dtype")
    assert _sample_count(audit_dir) == 0


def test_not_an_npy_is_refused(audit_dir: Path, shards) -> None:  # type: ignore[no-untyped-def]
    root, _ = shards
    (root / "img_emb" / "img_emb_0.npy").write_bytes(b"PAR1 not numpy at all")
    result = ingest_laion(audit_dir, root)
    _refused(result, "not an .npy")


def test_another_dimension_for_the_same_model_is_refused(tmp_path: Path, audit_dir: Path) -> None:
    first = tmp_path / "a"
    write_shards(first, [10], dim=32)
    model = "reviewer-tiny-clip/openai"
    ok = ingest_laion(audit_dir, first, "--embedding-model", model)
    assert ok.code == 0, ok.err
    second = tmp_path / "b"
    write_shards(second, [10], dim=48)
    (second / "metadata" / "metadata_0.parquet").rename(second / "metadata" / "metadata_7.parquet")
    (second / "img_emb" / "img_emb_0.npy").rename(second / "img_emb" / "img_emb_7.npy")
    result = ingest_laion(audit_dir, second, "--embedding-model", model)
    _refused(result, "48-d", "32-d")
    assert _set(audit_dir, model).rows == 10 and _sample_count(audit_dir) == 10


def test_unknown_dimension_needs_a_model_name(audit_dir: Path, tmp_path: Path) -> None:
    write_shards(tmp_path / "x", [5], dim=40)
    result = invoke(
        "ingest", audit_dir, tmp_path / "x" / "metadata", "--embeddings", tmp_path / "x" / "img_emb"
    )
    _refused(result, "40-d", "--embedding-model")


def test_rows_that_are_not_samples_keep_their_place(audit_dir: Path, tmp_path: Path) -> None:
    """A duplicate SAMPLE_ID is skipped by ingest: its row keeps a NULL id, others stay aligned."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "dup"
    arrays = write_shards(root, [6])
    table = pq.read_table(root / "metadata" / "metadata_0.parquet")
    ids = table.column("SAMPLE_ID").to_pylist()
    ids[3] = ids[1]  # row 3 repeats row 1's id
    table = table.set_column(0, "SAMPLE_ID", pa.array(ids, pa.int64()))
    pq.write_table(table, root / "metadata" / "metadata_0.parquet")
    result = ingest_laion(audit_dir, root)
    assert result.code == 0, result.err
    stored = _set(audit_dir)
    assert stored.all_ids().to_pylist() == ["0", "1", "2", None, "4", "5"]
    np.testing.assert_array_equal(
        stored.vector_at(stored.row_of("4")), arrays[0][4].astype(np.float32)
    )
