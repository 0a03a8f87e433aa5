"""``reviewer flag --flagger clip``: CLIP image-caption similarity and zero-shot p_nsfw.

LAION kept a pair when its CLIP image-caption similarity passed 0.28 (0.3 for
LAION-400M); re-scoring ``similarity`` lets an audit check that filter, and a
zero-shot NSFW probability from an explicit prompt set gives a second opinion on
the dataset's own NSFW tags. The prompt sets are in :mod:`clip_prompts`, the
batched scorer in :mod:`clip_scorer`; this module turns work-list rows into
image loaders and score columns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from reviewer.errors import ReviewerError
from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.clip_prompts import load_prompts
from reviewer.flaggers.clip_scorer import ClipScorer
from reviewer.flaggers.model_flagger import ModelFlagger

if TYPE_CHECKING:
    from PIL import Image

    from reviewer.audit import Audit


class ClipFlagger(ModelFlagger[ClipScorer]):
    """``reviewer flag --flagger clip``: image-caption similarity and zero-shot p_nsfw."""

    name: ClassVar[str] = "clip"
    extra_modules: ClassVar[tuple[str, ...]] = ("torch", "open_clip")
    version: ClassVar[str] = "1"
    inputs: ClassVar[tuple[str, ...]] = ("sample_id", "text", "url", "image_ref")
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["clip"]
    batch_size: ClassVar[int] = 512
    """Rows per part; the thread pool decodes a part's images ahead of the model."""

    def __init__(
        self,
        audit: Audit | None = None,
        model: str | None = None,
        pretrained: str | None = None,
        model_config: str | None = None,
        prompts: str | None = None,
        device: str = "auto",
        forward_batch: int = 32,
        workers: int = 2,
        quantize: bool = False,
        fast_decode: bool = False,
        store_embeddings: bool = False,
    ) -> None:
        self.audit = audit
        self.store_embeddings = store_embeddings
        self.embeddings_stored = 0
        self.quantize = quantize
        self.fast_decode = fast_decode
        self.arch = model or "ViT-B-32"
        self.pretrained = pretrained
        self.model_config = model_config
        self.prompt_set = load_prompts(prompts)
        self.model_id = f"open_clip:{self.arch}/{pretrained}"
        self.device = device
        self.forward_batch = forward_batch
        self.workers = workers
        self.scorer = None
        self.unscored: dict[str, int] = {}

    def params(self) -> dict[str, Any]:
        """Prompts, int8 and fast decoding change scores; batch size, workers, device do not."""
        params: dict[str, Any] = {
            "safe": list(self.prompt_set.safe),
            "unsafe": list(self.prompt_set.unsafe),
        }
        # Only when set, so runs without them keep their identity.
        if self.quantize:
            params["quantize"] = True
        if self.fast_decode:
            params["fast_decode"] = True
        return params

    def check_weights(self) -> None:
        """The architecture (or its config file) and local weights must exist."""
        from reviewer.flaggers.models import add_clip_config, clip_weights

        if self.model_config:
            add_clip_config(self.model_config)
        clip_weights(self.arch, self.pretrained)

    def load(self, device: str) -> ClipScorer:
        """The open_clip model on ``device``, wrapped in the batched scorer."""
        from reviewer.flaggers.models import add_clip_config, load_clip

        if self.model_config:
            add_clip_config(self.model_config)
        bundle = load_clip(self.arch, self.pretrained, device)
        return ClipScorer(
            bundle, self.prompt_set, device, self.forward_batch, self.workers, self.quantize
        )

    def score_batch(self, batch: pa.Table) -> pa.Table:
        """Score a batch; unreadable images get NULL scores and their reason in ``error``."""
        scorer = self.loaded()
        rows = batch.to_pylist()
        scores = scorer.score(self._loaders(rows), [r.get("text") for r in rows])
        for reason in scores.reasons:
            if reason is not None:
                self.unscored[reason] = self.unscored.get(reason, 0) + 1
        if self.store_embeddings and scores.embeddings is not None:
            self._store_embeddings(batch.column("sample_id").to_pylist(), scores.embeddings)
        return pa.table(
            {
                "sample_id": batch.column("sample_id"),
                "p_nsfw": pa.array(scores.p_nsfw, pa.float64(), mask=np.isnan(scores.p_nsfw)),
                "similarity": pa.array(
                    scores.similarity, pa.float64(), mask=np.isnan(scores.similarity)
                ),
                "error": pa.array(scores.reasons, pa.string()),
            }
        )

    def _loaders(self, rows: list[dict[str, Any]]) -> list[Callable[[], Image.Image]]:
        """One image loader per row, for the scorer's decode threads."""
        audit = self.audit
        if audit is None:
            raise ReviewerError(
                "clip: no audit to read images from", "run it through `reviewer flag`"
            )
        from reviewer.images.resolve import load_image

        min_side = self.scorer.input_side if self.fast_decode and self.scorer else None
        return [functools.partial(load_image, audit, row, min_side=min_side) for row in rows]

    def _store_embeddings(self, sample_ids: list[str], embeddings: np.ndarray) -> None:
        """Keep the batch's image embeddings in the audit's set of this model (for probes).

        One part per batch, named by a hash of its ids, so a resumed run that scores a
        batch again does not store it twice.
        """
        import hashlib

        from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

        if self.audit is None:
            return
        scored = np.flatnonzero(~np.isnan(embeddings).any(axis=1))
        if scored.size == 0:
            return
        ids = [sample_ids[i] for i in scored]
        source = "clip:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:24]
        model = ModelId(self.arch, str(self.pretrained))
        target = EmbeddingsFolder(self.audit.paths.embeddings).get(model, "image")
        if not target.has_source(source):
            target.add_part(
                model, "image", source, pa.array(ids, pa.string()), vectors=embeddings[scored]
            )
        self.embeddings_stored += len(ids)

    def run_facts(self) -> dict[str, Any]:
        """The prompt file, counts of unscored images by reason and of stored embeddings."""
        facts: dict[str, Any] = {
            "prompts_file": self.prompt_set.source,
            "unscored_images": dict(self.unscored),
        }
        if self.store_embeddings:
            facts["embeddings_stored"] = self.embeddings_stored
        return facts
