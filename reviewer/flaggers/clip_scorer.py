"""Batched open_clip scoring: cosine similarity and a zero-shot NSFW probability.

The 2023 audit ran one forward pass per image; here images are decoded by a
thread pool while the model encodes earlier ones in batches, and the prompt
embeddings are computed once per run.

``--fast-decode`` decodes JPEGs at the smallest DCT scale (1/2, 1/4, 1/8) whose
shortest side still covers the model's input (224 px): 2-4x faster decoding, which
bounds a GPU run (see docs/flaggers_ml.md), at the cost of slightly different pixels.

On CPU, ``--quantize`` runs both towers with dynamic int8 ``Linear`` layers
(about 1.2x faster on 2 cores, see ``benchmarks/bench_clip.py``); the largest
score change against fp32 on the run's first images is saved in ``run.json``.

``p_nsfw`` = sum over unsafe prompts of ``softmax(logit_scale * cos(image, prompts))``
taken over all prompts (safe and unsafe). torch and open_clip are imported inside
functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from reviewer.errors import ImageUnavailableError, ReviewerError
from reviewer.flaggers.clip_prompts import PromptSet

if TYPE_CHECKING:
    from PIL import Image

    from reviewer.flaggers.models import ClipBundle


@dataclass
class ClipScores:
    """Per item: cosine similarity (NaN without caption or image), p_nsfw, error reason,
    and the L2-normalised image embedding (a NaN row where the image was not scored)."""

    similarity: np.ndarray
    p_nsfw: np.ndarray
    reasons: list[str | None]
    embeddings: np.ndarray | None = None


def encode_text_truncated(model: Any, tokens: Any) -> Any:
    """``model.encode_text`` on tokens cut to the batch's longest caption; same result.

    open_clip's default text tower is causal: a token attends only to earlier ones,
    and the caption's feature is read at its end-of-text token. Padding after the
    last end-of-text token therefore cannot change any feature, and cutting it
    (with the positional embedding and causal mask sliced to match) skips the work.
    Other text towers (HF, non-causal, other pooling) fall back to ``encode_text``.
    """
    import torch
    from open_clip.model import CLIP
    from open_clip.transformer import text_global_pool

    mask = getattr(model, "attn_mask", None)
    if not isinstance(model, CLIP) or mask is None or model.text_pool_type != "argmax":
        return model.encode_text(tokens)
    length = max(1, int((tokens != 0).sum(dim=1).max()))
    tokens = tokens[:, :length]
    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast) + model.positional_embedding[:length].to(cast)
    x = model.transformer(x, attn_mask=mask[:length, :length])
    x = text_global_pool(model.ln_final(x), tokens, "argmax")
    projection = model.text_projection
    if projection is None:
        return x
    return projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection


def _mark_float_dtype(model: Any) -> Any:
    """Tag int8 layers with the dtype they replaced, as open_clip expects.

    open_clip reads the text tower's compute dtype from its first MLP weight, and
    looks for ``int8_original_dtype`` on layers whose weight is no longer a tensor.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.ao.nn.quantized.dynamic.Linear):
            setattr(module, "int8_original_dtype", torch.float32)  # noqa: B010 (not a declared attribute)
    return model


class ClipScorer:
    """Batched open_clip scoring with prompt embeddings computed once.

    Args:
        bundle: From :func:`reviewer.flaggers.models.load_clip`.
        prompts: The zero-shot prompt set.
        device: Torch device string.
        batch_size: Images per forward pass.
        workers: Threads decoding and transforming images ahead of the model.
        quantize: Dynamic int8 quantisation of the ``Linear`` layers (CPU only).
    """

    def __init__(
        self,
        bundle: ClipBundle,
        prompts: PromptSet,
        device: str = "cpu",
        batch_size: int = 32,
        workers: int = 2,
        quantize: bool = False,
    ) -> None:
        if quantize:
            from reviewer.flaggers.models import check_int8_device

            check_int8_device(device)
        self.bundle = bundle
        self.prompts = prompts
        self.device = device
        self.batch_size = batch_size
        self.workers = max(1, workers)
        self.quantize = quantize
        self.deviation: dict[str, float] = {}
        self.fp32_model = bundle.model
        self.model = bundle.model
        if quantize:
            from reviewer.flaggers.models import quantize_int8

            self.model = _mark_float_dtype(quantize_int8(bundle.model))
        self.prompt_features = self.encode_texts(prompts.prompts)
        self.unsafe = np.arange(len(prompts.safe), len(prompts.prompts))

    @property
    def input_side(self) -> int:
        """The model's input side in pixels (224 for ViT-B-32): the preprocessing resizes
        an image's shortest side to it, so a decode never needs to be larger."""
        size = getattr(getattr(self.model, "visual", None), "image_size", 224)
        return int(max(size) if isinstance(size, tuple | list) else size)

    def encode_texts(self, texts: Sequence[str], model: Any = None) -> Any:
        """L2-normalised text embeddings (torch tensor on the device), in input order.

        Captions are encoded in length-sorted batches cut to their longest caption
        (see :func:`encode_text_truncated`): most LAION captions use a fraction of
        CLIP's 77-token context.
        """
        import torch

        model = self.model if model is None else model
        tokens = self.bundle.tokenizer(list(texts))
        lengths = (tokens != 0).sum(dim=1)
        order = torch.argsort(lengths, stable=True)
        with torch.inference_mode():
            chunks = []
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                chunk = tokens[rows].to(self.device)
                chunks.append(encode_text_truncated(model, chunk).float())
            encoded = torch.cat(chunks)
            features = torch.empty_like(encoded)
            features[order.to(encoded.device)] = encoded
        return features / features.norm(dim=-1, keepdim=True)

    def encode_images(self, pixels: Any, model: Any = None) -> Any:
        """L2-normalised image embeddings of a preprocessed ``(n, 3, H, W)`` batch."""
        import torch

        model = self.model if model is None else model
        with torch.inference_mode():
            features = model.encode_image(pixels.to(self.device)).float()
        return features / features.norm(dim=-1, keepdim=True)

    def encode_images_splitting(self, pixels: Any) -> Any:
        """:meth:`encode_images`, halving the batch on out-of-memory until it fits."""
        import torch

        try:
            return self.encode_images(pixels)
        except RuntimeError as exc:
            if "out of memory" not in str(exc).lower():
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(pixels) <= 1:
                raise ReviewerError(
                    "clip: out of memory with a batch of one image",
                    "use a smaller model, --device cpu, or free memory",
                ) from exc
            half = len(pixels) // 2
            return torch.cat(
                [
                    self.encode_images_splitting(pixels[:half]),
                    self.encode_images_splitting(pixels[half:]),
                ]
            )

    def score(
        self, loaders: Sequence[Callable[[], Image.Image]], captions: Sequence[str | None]
    ) -> ClipScores:
        """Score items whose images come from ``loaders`` (called in worker threads).

        A loader raising :class:`ImageUnavailableError` leaves its item unscored with
        the error's reason; a missing caption leaves only ``similarity`` unscored.
        """
        import torch

        n = len(loaders)
        similarity = np.full(n, np.nan)
        p_nsfw = np.full(n, np.nan)
        reasons: list[str | None] = [None] * n
        embeddings: np.ndarray | None = None
        for rows, pixels, errors in self._decoded_batches(loaders):
            for row, reason in errors.items():
                reasons[row] = reason
            if not rows:
                continue
            batch_captions = [captions[r] for r in rows]
            with torch.inference_mode():
                images = self.encode_images_splitting(pixels)
                if embeddings is None:
                    embeddings = np.full((n, images.shape[1]), np.nan, np.float32)
                embeddings[rows] = images.float().cpu().numpy()
                p_nsfw[rows] = self._p_nsfw(images, self.prompt_features)
                similarity[rows] = self._similarity(images, batch_captions)
            if self.quantize and not self.deviation:
                self.deviation = self._measure_deviation(
                    pixels, batch_captions, p_nsfw[rows], similarity[rows]
                )
        return ClipScores(similarity, p_nsfw, reasons, embeddings)

    def _measure_deviation(
        self,
        pixels: Any,
        captions: list[str | None],
        p_nsfw: np.ndarray,
        similarity: np.ndarray,
    ) -> dict[str, float]:
        """Max |int8 - fp32| of p_nsfw and similarity over the first scored batch.

        The stored int8 scores are compared with an fp32 pass over the same pixels
        and captions, so ``run.json`` says how far this audit's scores are from fp32.
        """
        import torch

        with torch.inference_mode():
            prompts = self.encode_texts(self.prompts.prompts, self.fp32_model)
            images = self.encode_images(pixels, self.fp32_model)
            ref_nsfw = self._p_nsfw(images, prompts)
            ref_sim = self._similarity(images, captions, self.fp32_model)
        both = ~np.isnan(similarity)
        sim = float(np.abs(similarity[both] - ref_sim[both]).max()) if both.any() else 0.0
        return {
            "p_nsfw_max": float(np.abs(p_nsfw - ref_nsfw).max()),
            "similarity_max": sim,
            "images": len(p_nsfw),
        }

    def _decoded_batches(
        self, loaders: Sequence[Callable[[], Image.Image]]
    ) -> Iterator[tuple[list[int], Any, dict[int, str]]]:
        """Decode in the thread pool, at most two batches ahead of the model (bounded
        memory), and group the results into batches in input order."""
        import torch

        ahead = 2 * self.batch_size
        with ThreadPoolExecutor(self.workers) as pool:
            futures: dict[int, Future[Any]] = {}
            submitted = 0
            for start in range(0, len(loaders), self.batch_size):
                stop = min(start + self.batch_size, len(loaders))
                while submitted < min(len(loaders), start + ahead):
                    futures[submitted] = pool.submit(self._pixels, loaders[submitted])
                    submitted += 1
                rows, tensors, errors = [], [], {}
                for row in range(start, stop):
                    result = futures.pop(row).result()
                    if isinstance(result, str):
                        errors[row] = result
                    else:
                        rows.append(row)
                        tensors.append(result)
                yield rows, torch.stack(tensors) if tensors else None, errors

    def _pixels(self, load: Callable[[], Image.Image]) -> Any:
        """The preprocessed tensor of one image, or the reason it is unavailable."""
        try:
            image = load()
            return self.bundle.preprocess(image.convert("RGB"))
        except ImageUnavailableError as exc:
            return exc.reason
        except (OSError, ValueError) as exc:
            return f"not an image ({type(exc).__name__})"

    def _p_nsfw(self, images: Any, prompts: Any) -> np.ndarray:
        scale = self.fp32_model.logit_scale.exp().float()
        probs = (scale * images @ prompts.T).softmax(dim=-1)
        result: np.ndarray = probs[:, self.unsafe].sum(dim=-1).cpu().numpy()
        return result.astype(np.float64)

    def _similarity(self, images: Any, captions: list[str | None], model: Any = None) -> np.ndarray:
        out = np.full(len(captions), np.nan)
        keep = [i for i, c in enumerate(captions) if c is not None and c.strip()]
        if keep:
            texts = self.encode_texts([str(captions[i]) for i in keep], model)
            out[keep] = (images[keep] * texts).sum(dim=-1).cpu().numpy()
        return out
