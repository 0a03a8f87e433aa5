"""Hate-speech scores for captions: pysentimiento's English model, batched by length.

The hate-scaling audit (Birhane et al. 2023) called ``analyzer.predict`` row by
row and found scoring LAION-2B-en's captions out of reach. pysentimiento's own
batch path pads every batch to its longest caption in arrival order and goes
through the ``Trainer`` and ``datasets`` machinery. Here the analyzer still
supplies the model, the tokenizer and the preprocessing (so scores are the
model's scores), but the forward pass runs in length-sorted batches under
``torch.inference_mode``: little padding, no framework overhead, optional
dynamic int8 quantisation on CPU. Measured on 2 cores: about 2x pysentimiento's
batch path in fp32, about 3.5x with int8 (see ``benchmarks/bench_hate.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from reviewer.errors import ReviewerError
from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.model_flagger import ModelFlagger

LABELS = ("hateful", "targeted", "aggressive")
"""The model's three labels, in the order of the score columns."""

COLUMNS = tuple(f"p_{label}" for label in LABELS)
MAX_TOKENS = 128
"""pysentimiento truncates to 128 tokens (BERTweet's training length)."""
DEVIATION_SAMPLE = 64
"""Captions scored by both fp32 and int8 to report the quantisation deviation."""


def unscored_reason(text: str | None) -> str | None:
    """Why a caption is not scored (NULL or blank), or ``None`` when it is scored."""
    if text is None:
        return "no caption"
    if not text.strip():
        return "empty caption"
    return None


def mostly_non_latin(text: str) -> bool:
    """A cheap out-of-domain hint: most letters are outside ASCII (the model is English)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) < len(letters) / 2


@dataclass
class HateScores:
    """Scores of a list of captions, in input order.

    Attributes:
        probs: ``(n, 3)`` array of P_hateful, P_targeted, P_aggressive; NaN where unscored.
        reasons: Per caption, why it was not scored, or ``None``.
    """

    probs: np.ndarray
    reasons: list[str | None]
    out_of_domain: int = 0


@dataclass
class HateScorer:
    """The forward pass of pysentimiento's hate model in length-sorted batches.

    Args:
        analyzer: From :func:`reviewer.flaggers.models.load_hate_analyzer`
            (pysentimiento's ``create_analyzer``).
        device: A torch device string (see :func:`~reviewer.flaggers.models.resolve_device`).
        batch_size: Captions per forward pass; halved and retried on out-of-memory.
        quantize: Dynamic int8 quantisation of the Linear layers (CPU only).
    """

    analyzer: Any
    device: str = "cpu"
    batch_size: int = 64
    quantize: bool = False
    deviation: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quantize:
            from reviewer.flaggers.models import check_int8_device

            check_int8_device(self.device)
        self.tokenizer = self.analyzer.tokenizer
        self.preprocessing_args = dict(self.analyzer.preprocessing_args)
        self.model = self.analyzer.model.to(self.device).eval()
        self.label_index = _label_index(self.model.config)
        self.fp32_model = self.model
        if self.quantize:
            from reviewer.flaggers.models import quantize_int8

            self.model = quantize_int8(self.model)

    def preprocess(self, texts: Sequence[str]) -> list[str]:
        """pysentimiento's tweet preprocessing with the model's arguments (handles, URLs, emoji)."""
        from pysentimiento.preprocessing import preprocess_tweet

        return [preprocess_tweet(t, **self.preprocessing_args) for t in texts]

    def score(self, texts: Sequence[str | None]) -> HateScores:
        """Score captions; NULL and blank captions stay unscored (NaN), never 0."""
        reasons = [unscored_reason(t) for t in texts]
        keep = [i for i, r in enumerate(reasons) if r is None]
        probs = np.full((len(texts), len(LABELS)), np.nan)
        kept = [str(texts[i]) for i in keep]
        if kept:
            probs[keep] = self.probabilities(self.preprocess(kept))
        return HateScores(probs, reasons, sum(mostly_non_latin(t) for t in kept))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 3)`` probabilities of preprocessed texts, in input order."""
        encoded = self.tokenizer(
            list(texts), padding=False, truncation=True, max_length=MAX_TOKENS
        )["input_ids"]
        out = self._sorted_batches(self.model, encoded)
        if self.quantize and not self.deviation:
            self.deviation = self._measure_deviation(encoded[:DEVIATION_SAMPLE], out)
        return out

    def _sorted_batches(self, model: Any, encoded: list[list[int]]) -> np.ndarray:
        """Forward passes over length-sorted batches; rows returned in input order."""
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = np.empty((len(encoded), len(LABELS)))
        start, size = 0, self.batch_size
        while start < len(order):
            rows = order[start : start + size]
            try:
                out[rows] = self._forward(model, [encoded[i] for i in rows])
            except RuntimeError as exc:
                size = _smaller_batch(exc, size)
                continue
            start += len(rows)
        return out

    def _forward(self, model: Any, batch: list[list[int]]) -> np.ndarray:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            logits = model(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
            ).logits
            probs = torch.sigmoid(logits.float())[:, self.label_index]
        result: np.ndarray = probs.cpu().numpy().astype(np.float64)
        return result

    def _measure_deviation(self, sample: list[list[int]], scored: np.ndarray) -> dict[str, float]:
        """Max and mean |int8 - fp32| of the first captions as actually scored.

        Dynamic quantisation scales activations per batch, so int8 scores depend
        slightly on a caption's batch neighbours; comparing the stored scores (not a
        re-run) reports the deviation the audit really has.
        """
        if not sample:
            return {}
        reference = self._sorted_batches(self.fp32_model, sample)
        diff = np.abs(scored[: len(sample)] - reference)
        return {"max": float(diff.max()), "mean": float(diff.mean()), "captions": len(sample)}


def _label_index(config: Any) -> list[int]:
    """Column order of the model's logits for hateful, targeted, aggressive."""
    by_name = {str(name).lower(): int(i) for i, name in config.id2label.items()}
    missing = [label for label in LABELS if label not in by_name]
    if missing or config.problem_type != "multi_label_classification":
        raise ReviewerError(
            f"hate model: expected multi-label {', '.join(LABELS)}, got {sorted(by_name)}",
            "use pysentimiento's English hate-speech model or one with the same labels",
        )
    return [by_name[label] for label in LABELS]


def _smaller_batch(exc: RuntimeError, size: int) -> int:
    """Half the batch after an out-of-memory error; re-raise anything else."""
    if "out of memory" not in str(exc).lower():
        raise exc
    try:
        import torch

        torch.cuda.empty_cache()
    except Exception:  # no CUDA: nothing to free
        pass
    if size <= 1:
        raise ReviewerError(
            "hate: out of memory with a batch of one caption",
            "use a smaller model, --device cpu, or free memory",
        ) from exc
    return size // 2


class HateFlagger(ModelFlagger[HateScorer]):
    """``reviewer flag --flagger hate``: P_hateful, P_targeted, P_aggressive per caption."""

    name: ClassVar[str] = "hate"
    extra_modules: ClassVar[tuple[str, ...]] = ("torch", "pysentimiento")
    version: ClassVar[str] = "1"
    inputs: ClassVar[tuple[str, ...]] = ("sample_id", "text")
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["hate"]
    batch_size: ClassVar[int] = 2048
    """Rows per part: large, so length sorting within a part leaves little padding."""

    def __init__(
        self,
        model: str | None = None,
        device: str = "auto",
        forward_batch: int = 64,
        quantize: bool = False,
    ) -> None:
        from reviewer.flaggers.models import HATE_HUB_MODEL

        local = Path(model).expanduser() if model else None
        self.model_id = (
            str(local.resolve()) if local and local.is_dir() else model or HATE_HUB_MODEL
        )
        self.device = device
        self.forward_batch = forward_batch
        self.quantize = quantize
        self.scorer = None
        self.out_of_domain = 0
        self.unscored = 0

    def params(self) -> dict[str, Any]:
        """Quantisation changes scores slightly; batch size and device do not."""
        return {"quantize": self.quantize, "max_tokens": MAX_TOKENS}

    def check_weights(self) -> None:
        """The model folder or the cached hub model must exist (no network wait)."""
        from reviewer.flaggers.models import hate_model_source

        hate_model_source(self.model_id)

    def load(self, device: str) -> HateScorer:
        """The pysentimiento analyzer on ``device``, wrapped in the batched scorer."""
        from reviewer.flaggers.models import load_hate_analyzer

        analyzer = load_hate_analyzer(self.model_id)
        return HateScorer(analyzer, device, self.forward_batch, self.quantize)

    def score_batch(self, batch: pa.Table) -> pa.Table:
        """Score the batch's captions; blank ones get NULL scores and a reason."""
        scores = self.loaded().score(batch.column("text").to_pylist())
        self.out_of_domain += scores.out_of_domain
        self.unscored += sum(r is not None for r in scores.reasons)
        table = {"sample_id": batch.column("sample_id")}
        for j, name in enumerate(COLUMNS):
            column = scores.probs[:, j]
            table[name] = pa.array(column, pa.float64(), mask=np.isnan(column))
        table["error"] = pa.array(scores.reasons, pa.string())
        return pa.table(table)

    def run_facts(self) -> dict[str, Any]:
        """Counts of skipped and mostly non-Latin (out-of-domain) captions."""
        return {
            "unscored_captions": self.unscored,
            "mostly_non_latin_captions": self.out_of_domain,
        }
