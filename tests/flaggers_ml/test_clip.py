"""The CLIP scorer: similarity and zero-shot p_nsfw through open_clip's real loaders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from reviewer.errors import ImageUnavailableError, ModelUnavailableError, ReviewerError

pytestmark = pytest.mark.ml


def noise_image(seed: int, size: tuple[int, int] = (90, 70)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


IMAGES = [noise_image(i) for i in range(5)]
CAPTIONS: list[str | None] = ["a dog", "a red car at night", None, "house", "  "]


def loaders(images: list[Image.Image]) -> list[Callable[[], Image.Image]]:
    return [lambda im=im: im for im in images]


@pytest.fixture(scope="module")
def bundle(tiny_clip: tuple[str, Path]) -> Any:
    from reviewer.flaggers.models import load_clip

    name, weights = tiny_clip
    return load_clip(name, str(weights), "cpu")


@pytest.fixture(scope="module")
def scorer(bundle: Any) -> Any:
    from reviewer.flaggers.clip_prompts import load_prompts
    from reviewer.flaggers.clip_scorer import ClipScorer

    return ClipScorer(bundle, load_prompts(), "cpu", batch_size=2, workers=2)


def test_local_checkpoint_is_loaded(tiny_clip: tuple[str, Path], bundle: Any) -> None:
    """``pretrained=path`` really loads the saved weights (not a fresh random init)."""
    import torch

    saved = torch.load(tiny_clip[1], weights_only=True)
    loaded = bundle.model.state_dict()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)


def test_similarity_is_the_normalised_dot_product(bundle: Any, scorer: Any) -> None:
    import torch

    result = scorer.score(loaders(IMAGES), CAPTIONS)
    with torch.no_grad():
        pixels = torch.stack([bundle.preprocess(im) for im in IMAGES[:2]])
        image = bundle.model.encode_image(pixels)
        text = bundle.model.encode_text(bundle.tokenizer(["a dog", "a red car at night"]))
    image = image / image.norm(dim=-1, keepdim=True)
    text = text / text.norm(dim=-1, keepdim=True)
    expected = (image * text).sum(dim=-1).numpy()
    np.testing.assert_allclose(result.similarity[:2], expected, atol=1e-5)
    assert result.similarity[3] == pytest.approx(
        float(_cosine(bundle, IMAGES[3], "house")), abs=1e-5
    )
    # No caption (NULL or blank): no similarity, but the image still gets p_nsfw.
    assert np.isnan(result.similarity[[2, 4]]).all()
    assert not np.isnan(result.p_nsfw).any()


def _cosine(bundle: Any, image: Image.Image, caption: str) -> float:
    import torch

    with torch.no_grad():
        a = bundle.model.encode_image(bundle.preprocess(image)[None])[0]
        b = bundle.model.encode_text(bundle.tokenizer([caption]))[0]
    return float(a @ b / (a.norm() * b.norm()))


def test_p_nsfw_is_the_unsafe_softmax_mass(bundle: Any, scorer: Any) -> None:
    import torch

    from reviewer.flaggers.clip_prompts import load_prompts

    prompts = load_prompts()
    with torch.no_grad():
        a = bundle.model.encode_image(bundle.preprocess(IMAGES[0])[None])
        t = bundle.model.encode_text(bundle.tokenizer(prompts.prompts))
        a = a / a.norm(dim=-1, keepdim=True)
        t = t / t.norm(dim=-1, keepdim=True)
        logits = bundle.model.logit_scale.exp() * (a @ t.T)[0]
    probs = torch.softmax(logits, dim=0).numpy()
    expected = probs[len(prompts.safe) :].sum()
    got = scorer.score(loaders(IMAGES[:1]), ["x"]).p_nsfw[0]
    assert 0 <= got <= 1
    assert got == pytest.approx(float(expected), abs=1e-5)


def test_batched_equals_one_at_a_time(bundle: Any, scorer: Any) -> None:
    from reviewer.flaggers.clip_prompts import load_prompts
    from reviewer.flaggers.clip_scorer import ClipScorer

    batched = scorer.score(loaders(IMAGES), CAPTIONS)
    single = ClipScorer(bundle, load_prompts(), "cpu", batch_size=1, workers=1)
    for i, image in enumerate(IMAGES):
        one = single.score(loaders([image]), [CAPTIONS[i]])
        assert one.p_nsfw[0] == pytest.approx(batched.p_nsfw[i], abs=1e-5)
        np.testing.assert_allclose(one.similarity[0], batched.similarity[i], atol=1e-5)


def test_unreadable_image_is_unscored_with_its_reason(scorer: Any) -> None:
    def missing() -> Image.Image:
        raise ImageUnavailableError("404")

    def garbage() -> Image.Image:
        raise OSError("cannot identify image file")

    good = scorer.score(loaders(IMAGES[:2]), CAPTIONS[:2])
    mixed = scorer.score(
        [missing, *loaders(IMAGES[:1]), garbage, *loaders(IMAGES[1:2])],
        ["x", CAPTIONS[0], "y", CAPTIONS[1]],
    )
    assert mixed.reasons[0] == "404"
    assert mixed.reasons[2] is not None and mixed.reasons[2].startswith("not an image")
    assert np.isnan(mixed.p_nsfw[[0, 2]]).all() and np.isnan(mixed.similarity[[0, 2]]).all()
    np.testing.assert_allclose(mixed.p_nsfw[[1, 3]], good.p_nsfw, atol=1e-5)
    np.testing.assert_allclose(mixed.similarity[[1, 3]], good.similarity, atol=1e-5)


def test_flagger_over_an_audit(
    tiny_clip: tuple[str, Path], audit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.flaggers.clip import ClipFlagger
    from reviewer.images import resolve

    def load_image(_audit: Any, sample: dict[str, Any], min_side: int | None) -> Image.Image:
        assert min_side is None  # full decodes unless --fast-decode
        if sample["sample_id"] == "gone":
            raise ImageUnavailableError("timeout")
        return IMAGES[int(sample["sample_id"][-1])]

    monkeypatch.setattr(resolve, "load_image", load_image)
    name, weights = tiny_clip
    flagger = ClipFlagger(audit=audit, model=name, pretrained=str(weights), device="cpu")
    batch = pa.table(
        {
            "sample_id": ["s0", "gone", "s1"],
            "text": ["a dog", "a cat", None],
            "url": ["u0", "u1", "u2"],
            "image_ref": [None, None, None],
        }
    )
    out = flagger.score_batch(batch)
    assert out.column("error").to_pylist() == [None, "timeout", None]
    assert out.column("p_nsfw").null_count == 1
    assert out.column("similarity").null_count == 2
    assert flagger.extra_provenance()["unscored_images"] == {"timeout": 1}
    assert flagger.params()["unsafe"]


def test_missing_checkpoint_fails_fast(tiny_clip: tuple[str, Path], tmp_path: Path) -> None:
    from reviewer.flaggers.models import clip_weights

    name, _ = tiny_clip
    with pytest.raises(ModelUnavailableError, match="no such checkpoint") as info:
        clip_weights(name, str(tmp_path / "missing.pt"))
    assert "--pretrained /path/to/checkpoint.pt" in info.value.hint
    with pytest.raises(ModelUnavailableError, match="no --pretrained"):
        clip_weights(name, None)
    assert clip_weights(name, "random") is None


def test_uncached_pretrained_tag_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from reviewer.flaggers import models

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the hub must not be contacted")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    monkeypatch.setattr(models, "_hub_cached", lambda repo, name: False)
    monkeypatch.setenv("HOME", "/nonexistent-home")
    with pytest.raises(ModelUnavailableError, match="not cached"):
        models.clip_weights("ViT-B-32", "openai")
    with pytest.raises(ReviewerError, match="not a tag of ViT-B-32"):
        models.clip_weights("ViT-B-32", "no-such-tag")
    with pytest.raises(ReviewerError, match="unknown open_clip architecture"):
        models.clip_weights("ViT-Nope", "openai")


def test_prompt_files(tmp_path: Path) -> None:
    from reviewer.flaggers.clip_prompts import load_prompts

    default = load_prompts()
    assert default.safe and default.unsafe
    txt = tmp_path / "p.txt"
    txt.write_text("# comment\nsafe: a cat\nsafe: a dog\nunsafe: a nude photo\n", "utf-8")
    assert load_prompts(txt).prompts == ["a cat", "a dog", "a nude photo"]
    bad = tmp_path / "bad.toml"
    bad.write_text('safe = ["a cat"]\n', "utf-8")
    with pytest.raises(ReviewerError, match="'safe' and 'unsafe'"):
        load_prompts(bad)
    with pytest.raises(ReviewerError, match="cannot read"):
        load_prompts(tmp_path / "none.toml")


def test_truncated_text_encoding_equals_open_clip(bundle: Any) -> None:
    import torch

    from reviewer.flaggers.clip_scorer import encode_text_truncated

    tokens = bundle.tokenizer(["a dog", "a much longer caption about a red car at night", ""])
    with torch.no_grad():
        full = bundle.model.encode_text(tokens)
        cut = encode_text_truncated(bundle.model, tokens)
    torch.testing.assert_close(cut, full, atol=1e-5, rtol=1e-5)


def test_out_of_memory_splits_the_image_batch(bundle: Any, scorer: Any) -> None:
    from reviewer.flaggers.clip_prompts import load_prompts
    from reviewer.flaggers.clip_scorer import ClipScorer

    flaky = ClipScorer(bundle, load_prompts(), "cpu", batch_size=4, workers=1)
    real = flaky.encode_images
    sizes: list[int] = []

    def encode(pixels: Any) -> Any:
        sizes.append(len(pixels))
        if len(pixels) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return real(pixels)

    flaky.encode_images = encode  # type: ignore[method-assign]
    got = flaky.score(loaders(IMAGES[:3]), CAPTIONS[:3])
    want = scorer.score(loaders(IMAGES[:3]), CAPTIONS[:3])
    np.testing.assert_allclose(got.p_nsfw, want.p_nsfw, atol=1e-5)
    assert sizes[:3] == [3, 1, 2]

    def always(pixels: Any) -> Any:
        raise RuntimeError("out of memory")

    flaky.encode_images = always  # type: ignore[method-assign]
    with pytest.raises(ReviewerError, match="batch of one image"):
        flaky.score(loaders(IMAGES[:1]), ["x"])


def test_int8_scores_are_close_and_their_deviation_is_reported(
    bundle: Any, scorer: Any
) -> None:
    """int8 changes the model (scores move), and run.json's deviation is the real one."""
    from reviewer.flaggers.clip_prompts import load_prompts
    from reviewer.flaggers.clip_scorer import ClipScorer

    quantized = ClipScorer(bundle, load_prompts(), "cpu", batch_size=8, workers=1, quantize=True)
    assert quantized.model is not bundle.model  # the fp32 model is left untouched
    got = quantized.score(loaders(IMAGES), CAPTIONS)
    want = scorer.score(loaders(IMAGES), CAPTIONS)
    deviation = quantized.deviation
    assert deviation["images"] == len(IMAGES)
    nsfw_gap = float(np.abs(got.p_nsfw - want.p_nsfw).max())
    sim_gap = float(np.nanmax(np.abs(got.similarity - want.similarity)))
    assert nsfw_gap == pytest.approx(deviation["p_nsfw_max"], abs=1e-6)
    assert sim_gap == pytest.approx(deviation["similarity_max"], abs=1e-6)
    assert nsfw_gap + sim_gap > 0 and sim_gap < 0.1
    assert np.isnan(got.similarity[[2, 4]]).all()  # missing captions stay unscored


def test_int8_is_refused_off_cpu_and_changes_the_run_identity(
    tiny_clip: tuple[str, Path], bundle: Any
) -> None:
    from reviewer.flaggers.clip import ClipFlagger
    from reviewer.flaggers.clip_prompts import load_prompts
    from reviewer.flaggers.clip_scorer import ClipScorer

    with pytest.raises(ReviewerError, match="CPU only"):
        ClipScorer(bundle, load_prompts(), "cuda", quantize=True)
    name, weights = tiny_clip
    fp32 = ClipFlagger(model=name, pretrained=str(weights), device="cpu")
    int8 = ClipFlagger(model=name, pretrained=str(weights), device="cpu", quantize=True)
    assert "quantize" not in fp32.params()
    assert int8.params()["quantize"] is True
