"""``flag --flagger clip --store-embeddings``: the clip flagger's image vectors become a set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

from .conftest import invoke

pytestmark = pytest.mark.ml

IMAGES = [
    Image.fromarray(np.random.default_rng(i).integers(0, 256, (70, 90, 3), dtype=np.uint8))
    for i in range(3)
]


def test_clip_flagger_stores_image_embeddings(
    tiny_clip: tuple[str, Path], audit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import open_clip
    import torch

    from reviewer.errors import ImageUnavailableError
    from reviewer.flaggers.clip import ClipFlagger
    from reviewer.images import resolve

    def load_image(_audit: Any, sample: dict[str, Any], min_side: int | None) -> Image.Image:
        if sample["sample_id"] == "gone":
            raise ImageUnavailableError("timeout")
        return IMAGES[int(sample["sample_id"][-1])]

    monkeypatch.setattr(resolve, "load_image", load_image)
    name, weights = tiny_clip
    flagger = ClipFlagger(
        audit=audit, model=name, pretrained=str(weights), device="cpu", store_embeddings=True
    )
    batch = pa.table(
        {
            "sample_id": ["s0", "gone", "s2"],
            "text": ["a", "b", None],
            "url": ["u0", "u1", "u2"],
            "image_ref": [None, None, None],
        }
    )
    flagger.score_batch(batch)
    flagger.score_batch(batch)  # a resumed run scoring the batch again stores nothing twice
    assert flagger.extra_provenance()["embeddings_stored"] == 4
    stored = EmbeddingsFolder(audit.paths.embeddings).get(ModelId(name, str(weights)))
    assert stored.rows == 2 and stored.dim == 32 and stored.all_ids().to_pylist() == ["s0", "s2"]
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=str(weights))
    model.eval()
    with torch.no_grad():
        for sid, image in (("s0", IMAGES[0]), ("s2", IMAGES[2])):
            vector = model.encode_image(preprocess(image.convert("RGB"))[None])[0].numpy()
            vector = vector / np.linalg.norm(vector)
            row = stored.row_of(sid)
            assert row is not None
            np.testing.assert_allclose(stored.vector_at(row), vector, atol=2e-3)  # float16
    # The stored set is what probes search.
    result = invoke("probe", audit.root, "--like", "s0", "--top", "1", "--name", "near")
    assert result.code == 0, result.err
    assert audit.store.probes.queue_ids("near") == ["s2"]


def test_store_embeddings_refuses_ray(audit: Any) -> None:
    result = invoke(
        "flag", audit.root, "--flagger", "clip", "--engine", "ray", "--store-embeddings"
    )
    assert result.code != 0 and "only with --engine local" in result.err
