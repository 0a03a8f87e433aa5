"""Probes by sample, text and picture become review queues in similarity order."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reviewer.audit import Audit
from reviewer.review.queue import load_queue

from .conftest import ingest_laion, invoke, write_shards


def _ranked(vectors: np.ndarray, query: np.ndarray, k: int, skip: int | None = None) -> list[str]:
    """Independent exact ranking: ids are the row numbers (SAMPLE_ID = global row)."""
    scores = vectors.astype(np.float32) @ query.astype(np.float32)
    if skip is not None:
        scores[skip] = -np.inf
    return [str(i) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.fixture
def embedded(tmp_path: Path, audit_dir: Path) -> tuple[Path, np.ndarray]:
    arrays = write_shards(tmp_path / "laion", [40, 25])
    result = ingest_laion(audit_dir, tmp_path / "laion")
    assert result.code == 0, result.err
    return audit_dir, np.concatenate(arrays)


def test_probe_like_a_sample_queues_its_neighbours_in_order(embedded) -> None:  # type: ignore[no-untyped-def]
    audit_dir, vectors = embedded
    result = invoke("probe", audit_dir, "--like", "12", "--top", "10", "--name", "near12")
    assert result.code == 0, result.err
    assert "probe 'near12': 10 items queued" in result.out
    audit = Audit.open(audit_dir)
    try:
        expected = _ranked(vectors, vectors[12], 10, skip=12)
        assert audit.store.probes.queue_ids("near12") == expected
        queue = load_queue(audit, "ana", "near12")
        assert list(queue.ids)[: len(expected)] == [i for i in queue.ids if i in expected]
        assert [i for i in queue.ids if i not in queue.breathers] == expected
        items = audit.store.review.items(expected[:2], audit.settings)
        similarity = float(
            vectors[int(expected[0])].astype(np.float32) @ vectors[12].astype(np.float32)
        )
        assert items[expected[0]].reasons[0] == f"probe 'sample 12': similarity {similarity:.2f}"
        assert items[expected[0]].suggested_category is None
    finally:
        audit.close()


def test_probe_bad_input_is_one_line(embedded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audit_dir, _ = embedded
    cases = [
        (["--like", "nope", "--top", "5"], "no such sample"),
        (["--like", "3", "--top", "1000"], "only 65 embedded samples"),
        (["   ", "--top", "5"], "query is empty"),
        ([], "exactly one of"),
        (["--like", "3", "--top", "0"], "at least 1"),
        (["--like-image", str(tmp_path / "missing.png")], "no such file"),
        (["--probes", str(tmp_path / "missing.txt")], "cannot read"),
        (["--like", "3", "--category", "weird"], "not a category"),
    ]
    for args, words in cases:
        result = invoke("probe", audit_dir, *args)
        assert result.code != 0, args
        assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1
        assert words in result.err, (args, result.err)
    ok = invoke("probe", audit_dir, "--like", "3", "--name", "p", "--top", "5")
    again = invoke("probe", audit_dir, "--like", "4", "--name", "p", "--top", "5")
    assert ok.code == 0 and again.code != 0 and "already exists" in again.err


def test_probe_without_embeddings_is_refused(audit_dir: Path) -> None:
    result = invoke("probe", audit_dir, "--like", "1")
    assert result.code != 0 and "no image embeddings" in result.err


@pytest.fixture
def tiny_embedded(tmp_path: Path, audit_dir: Path, tiny_clip) -> tuple[Path, np.ndarray, str, Path]:  # type: ignore[no-untyped-def]
    name, weights = tiny_clip
    arrays = write_shards(tmp_path / "laion", [30, 30], dim=32)
    result = ingest_laion(audit_dir, tmp_path / "laion", "--embedding-model", f"{name}/{weights}")
    assert result.code == 0, result.err
    return audit_dir, np.concatenate(arrays), name, weights


def _model(name: str, weights: Path) -> tuple[Any, Any, Any]:
    """The tiny model loaded here with open_clip directly (not through reviewer)."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=str(weights))
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(name)


def _unit(features: Any) -> np.ndarray:
    array = features.detach().float().numpy()[0]
    return array / np.linalg.norm(array)


@pytest.mark.ml
def test_text_probe_encodes_with_the_embeddings_model(tiny_embedded) -> None:  # type: ignore[no-untyped-def]
    import torch

    audit_dir, vectors, name, weights = tiny_embedded
    result = invoke(
        "probe", audit_dir, "a red car at night", "--top", "8", "--name", "car", "--device", "cpu"
    )
    assert result.code == 0, result.err
    model, _, tokenizer = _model(name, weights)
    with torch.no_grad():
        query = _unit(model.encode_text(tokenizer(["a red car at night"])))
    audit = Audit.open(audit_dir)
    try:
        assert audit.store.probes.queue_ids("car") == _ranked(vectors, query, 8)
        first = audit.store.probes.queue_ids("car")[0]
        reason = audit.store.review.items([first], audit.settings)[first].reasons[0]
        assert reason.startswith("probe 'a red car at night': similarity 0.")
    finally:
        audit.close()


@pytest.mark.ml
def test_probes_file_runs_each_text(tiny_embedded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audit_dir, *_ = tiny_embedded
    probes = tmp_path / "probes.txt"
    probes.write_text("# the 2021 audit's words\ndesi\naunty\n\nlatina\n", encoding="utf-8")
    result = invoke(
        "probe", audit_dir, "--probes", probes, "--top", "5", "--name", "r1", "--device", "cpu"
    )
    assert result.code == 0, result.err
    audit = Audit.open(audit_dir)
    try:
        names = sorted(p.name for p in audit.store.probes.probes())
        assert names == ["r1:aunty", "r1:desi", "r1:latina"]
        assert all(len(audit.store.probes.queue_ids(n)) == 5 for n in names)
    finally:
        audit.close()


@pytest.mark.ml
def test_a_probe_with_another_model_is_refused(tiny_embedded) -> None:  # type: ignore[no-untyped-def]
    audit_dir, *_ = tiny_embedded
    result = invoke("probe", audit_dir, "desi", "--model", "ViT-B-32", "--pretrained", "openai")
    assert result.code != 0 and "not the model of the stored embeddings" in result.err


@pytest.mark.ml
def test_image_probe_never_stores_the_picture(tiny_embedded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    import torch

    audit_dir, vectors, name, weights = tiny_embedded
    picture = tmp_path / "private" / "me.png"
    picture.parent.mkdir()
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (80, 70, 3), np.uint8)).save(
        buffer, "PNG"
    )
    picture.write_bytes(buffer.getvalue())
    result = invoke(
        "probe", audit_dir, "--like-image", picture, "--top", "6", "--name", "me", "--device", "cpu"
    )
    assert result.code == 0, result.err
    model, preprocess, _ = _model(name, weights)
    with torch.no_grad():
        query = _unit(model.encode_image(preprocess(Image.open(picture).convert("RGB"))[None]))
    audit = Audit.open(audit_dir)
    try:
        ids = audit.store.probes.queue_ids("me")
        assert ids == _ranked(vectors, query, 6)
        info = audit.store.probes.probe("me")
        assert info is not None and info.category == "privacy" and info.kind == "image"
        assert info.query == "sha256:" + hashlib.sha256(picture.read_bytes()).hexdigest()
        item = audit.store.review.items(ids[:1], audit.settings)[ids[0]]
        assert item.suggested_category == "privacy"
        assert item.reasons[0].startswith("probe 'local image': similarity")
    finally:
        audit.close()
    data = picture.read_bytes()
    for path in audit_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert data not in content and b"me.png" not in content, path
