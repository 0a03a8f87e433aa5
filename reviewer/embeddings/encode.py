"""Encoding a probe's text or picture with the open_clip model that made the embeddings.

A query vector is only comparable with vectors from the same model: the set's
model id (``ARCH/PRETRAINED``) picks the architecture and weights, loaded offline
through :func:`reviewer.flaggers.models.load_clip` like the clip flagger's. Weights
given as a local file cannot be told apart from the tag the set records, so the
check is on the architecture and, after loading, on the output dimension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from reviewer.embeddings.sets import EmbeddingSet, ModelId
from reviewer.errors import ReviewerError


def encoder_model(vectors: EmbeddingSet, model: str | None, pretrained: str | None) -> ModelId:
    """The model to encode with: the set's, or the one given when it matches the set's.

    Raises:
        ReviewerError: another architecture, or another pretrained tag, than the set's.
    """
    stored = vectors.model
    arch = model or stored.arch
    weights = pretrained or stored.pretrained
    tag_differs = weights != stored.pretrained and not Path(weights).expanduser().is_file()
    if arch != stored.arch or tag_differs:
        raise ReviewerError(
            f"the text encoder {arch}/{weights} is not the model of the stored embeddings"
            f" ({stored})",
            "probe with the model that made them (leave --model/--pretrained out, or give"
            " its local checkpoint with --pretrained FILE)",
        )
    return ModelId(arch, weights)


class QueryEncoder:
    """L2-normalised open_clip embeddings of probe texts and local pictures.

    Args:
        model: Architecture and weights (a tag cached here or a local file).
        expected_dim: The stored set's dimension; a model giving another is refused.
        model_config: An extra open_clip architecture JSON to register first.
        device: Torch device string (``auto`` picks a GPU when one is visible).
    """

    def __init__(
        self,
        model: ModelId,
        expected_dim: int,
        model_config: str | None = None,
        device: str = "auto",
    ) -> None:
        from reviewer.flaggers.models import add_clip_config, load_clip, resolve_device

        self.device = resolve_device(device)
        if model_config:
            add_clip_config(model_config)
        self.bundle = load_clip(model.arch, model.pretrained, self.device)
        self.expected_dim = expected_dim

    def _normalise(self, features: Any) -> np.ndarray:
        array: np.ndarray = features.float().cpu().numpy()
        if array.shape[1] != self.expected_dim:
            raise ReviewerError(
                f"the encoder gives {array.shape[1]}-d vectors, the stored embeddings are"
                f" {self.expected_dim}-d",
                "probe with the model that made the embeddings",
            )
        unit: np.ndarray = array / np.linalg.norm(array, axis=1, keepdims=True)
        return unit

    def texts(self, texts: list[str]) -> np.ndarray:
        """One row per text."""
        import torch

        from reviewer.flaggers.clip_scorer import encode_text_truncated

        with torch.inference_mode():
            tokens = self.bundle.tokenizer(texts).to(self.device)
            return self._normalise(encode_text_truncated(self.bundle.model, tokens))

    def image(self, path: Path, max_pixels: int) -> np.ndarray:
        """One row for a local picture, decoded in memory (never copied anywhere).

        Raises:
            ReviewerError: missing, unreadable or not an image.
        """
        import torch

        from reviewer.errors import ImageUnavailableError
        from reviewer.images.decode import decode_image

        try:
            data = path.expanduser().read_bytes()
        except OSError as exc:
            raise ReviewerError(
                f"--like-image {path}: cannot read ({exc.strerror})", "check the path"
            ) from exc
        try:
            image = decode_image(data, max_pixels)
        except ImageUnavailableError as exc:
            raise ReviewerError(
                f"--like-image {path}: {exc.reason}", "give a JPEG, PNG or WebP picture"
            ) from exc
        with torch.inference_mode():
            pixels = self.bundle.preprocess(image.convert("RGB"))[None].to(self.device)
            return self._normalise(self.bundle.model.encode_image(pixels))
