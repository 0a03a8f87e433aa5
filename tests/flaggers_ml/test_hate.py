"""The hate-speech scorer: pysentimiento's model, our batched forward pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from reviewer.errors import ModelUnavailableError, ReviewerError

pytestmark = pytest.mark.ml

CAPTIONS = [
    "you are a stupid idiot",
    "a photo of the red car on a street at night with people and dogs running in the park",
    "love @someone http://example.org/x.jpg 😀",
    "beautiful sunset",
    "HOUSE kitchen interior modern wooden table chair flowers garden summer winter snow city",
    "Привет мир",
    "a",
]


@pytest.fixture(scope="module")
def scorer(tiny_analyzer: Any) -> Any:
    from reviewer.flaggers.hate import HateScorer

    return HateScorer(tiny_analyzer, "cpu", batch_size=3)


def test_three_probabilities_per_caption(scorer: Any) -> None:
    result = scorer.score(CAPTIONS)
    assert result.probs.shape == (len(CAPTIONS), 3)
    assert np.all((result.probs >= 0) & (result.probs <= 1))
    assert result.reasons == [None] * len(CAPTIONS)
    # A random model still separates inputs: the scores are not a constant.
    assert np.ptp(result.probs, axis=0).max() > 1e-3


def test_deterministic(scorer: Any) -> None:
    assert np.array_equal(scorer.score(CAPTIONS).probs, scorer.score(CAPTIONS).probs)


def test_batched_equals_one_at_a_time_and_order_is_restored(tiny_analyzer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    batched = HateScorer(tiny_analyzer, "cpu", batch_size=4).score(CAPTIONS).probs
    single = np.vstack(
        [HateScorer(tiny_analyzer, "cpu", batch_size=1).score([c]).probs for c in CAPTIONS]
    )
    np.testing.assert_allclose(batched, single, atol=1e-5)
    reversed_batched = HateScorer(tiny_analyzer, "cpu", batch_size=4).score(CAPTIONS[::-1]).probs
    np.testing.assert_allclose(reversed_batched[::-1], batched, atol=1e-5)


def test_matches_pysentimiento_predict(scorer: Any, tiny_analyzer: Any) -> None:
    """Our forward pass gives the library's own probabilities for the same captions."""
    ours = scorer.score(CAPTIONS).probs
    theirs = tiny_analyzer.predict(CAPTIONS)
    expected = np.array(
        [[o.probas[k] for k in ("hateful", "targeted", "aggressive")] for o in theirs]
    )
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_null_and_empty_captions_are_unscored_not_zero(scorer: Any) -> None:
    result = scorer.score([None, "beautiful sunset", "   ", ""])
    assert result.reasons == ["no caption", None, "empty caption", "empty caption"]
    assert np.isnan(result.probs[[0, 2, 3]]).all()
    assert not np.isnan(result.probs[1]).any()


def test_mostly_non_latin_captions_are_counted() -> None:
    from reviewer.flaggers.hate import mostly_non_latin

    assert mostly_non_latin("Привет мир")
    assert mostly_non_latin("東京の夜景の写真 photo")
    assert not mostly_non_latin("café in Paris")
    assert not mostly_non_latin("1234 !!")


def test_int8_deviation_is_reported_and_small(tiny_analyzer: Any, scorer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    quantized = HateScorer(tiny_analyzer, "cpu", batch_size=3, quantize=True)
    probs = quantized.score(CAPTIONS).probs
    deviation = quantized.deviation
    assert deviation["captions"] == len(CAPTIONS)
    assert 0 <= deviation["mean"] <= deviation["max"] < 0.1
    fp32 = scorer.score(CAPTIONS).probs
    assert np.abs(probs - fp32).max() == pytest.approx(deviation["max"], abs=1e-6)


def test_out_of_memory_halves_the_batch_and_retries(tiny_analyzer: Any, scorer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    flaky = HateScorer(tiny_analyzer, "cpu", batch_size=8)
    real_forward = flaky._forward
    sizes: list[int] = []

    def forward(model: Any, batch: list[list[int]]) -> np.ndarray:
        sizes.append(len(batch))
        if len(batch) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(model, batch)

    flaky._forward = forward  # type: ignore[method-assign]
    np.testing.assert_allclose(flaky.score(CAPTIONS).probs, scorer.score(CAPTIONS).probs, atol=1e-5)
    assert sizes[:3] == [7, 4, 2]  # 8 rows asked (7 left), then 4, then 2


def test_out_of_memory_at_batch_one_is_a_clear_error(tiny_analyzer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    broken = HateScorer(tiny_analyzer, "cpu", batch_size=2)

    def forward(model: Any, batch: list[list[int]]) -> np.ndarray:
        raise RuntimeError("out of memory")

    broken._forward = forward  # type: ignore[method-assign]
    with pytest.raises(ReviewerError, match="batch of one"):
        broken.score(["a caption"])


def test_other_runtime_errors_are_not_swallowed(tiny_analyzer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    broken = HateScorer(tiny_analyzer, "cpu", batch_size=2)

    def forward(model: Any, batch: list[list[int]]) -> np.ndarray:
        raise RuntimeError("shape mismatch")

    broken._forward = forward  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="shape mismatch"):
        broken.score(["a caption"])


def test_flagger_batch_has_null_scores_and_reasons(tiny_hate_dir: Path) -> None:
    from reviewer.flaggers.hate import HateFlagger

    flagger = HateFlagger(model=str(tiny_hate_dir), device="cpu", quantize=True)
    batch = pa.table({"sample_id": ["a", "b", "c"], "text": ["you idiot", None, ""]})
    out = flagger.score_batch(batch)
    assert out.column_names == ["sample_id", "p_hateful", "p_targeted", "p_aggressive", "error"]
    assert out.column("p_hateful").null_count == 2
    assert out.column("error").to_pylist() == [None, "no caption", "empty caption"]
    extra = flagger.extra_provenance()
    assert extra["unscored_captions"] == 2
    assert extra["int8_deviation"]["captions"] == 1


def test_missing_local_model_fails_fast_with_how_to(tmp_path: Path) -> None:
    from reviewer.flaggers.models import hate_model_source

    with pytest.raises(ModelUnavailableError) as info:
        hate_model_source(str(tmp_path / "nowhere"))
    assert "--model /local/dir" in info.value.one_line()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match=r"no config\.json"):
        hate_model_source(str(tmp_path / "empty"))


def test_uncached_hub_model_fails_fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default hub model is not cached here: refused before any network call."""
    import huggingface_hub

    from reviewer.flaggers import models

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the hub must not be contacted")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    monkeypatch.setattr(models, "_hub_cached", lambda repo, name: False)
    with pytest.raises(ModelUnavailableError) as info:
        models.load_hate_analyzer(None)
    assert "pysentimiento/bertweet-hate-speech" in info.value.message
    assert "Hugging Face cache" in info.value.hint


def test_flagger_reports_unavailable_model(tmp_path: Path) -> None:
    from reviewer.flaggers.hate import HateFlagger

    reason = HateFlagger(model=str(tmp_path / "nowhere")).unavailable()
    assert reason is not None and "no such model folder" in reason


def test_gpu_requested_but_absent() -> None:
    import torch

    from reviewer.flaggers.models import resolve_device

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ReviewerError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ReviewerError, match="unknown device"):
        resolve_device("tpu")


def test_quantize_refused_on_gpu_device(tiny_analyzer: Any) -> None:
    from reviewer.flaggers.hate import HateScorer

    with pytest.raises(ReviewerError, match="CPU only"):
        HateScorer(tiny_analyzer, "cuda", quantize=True)
