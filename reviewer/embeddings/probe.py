"""Probes: the K samples nearest to a text, a sample or a local picture, as a review queue.

The 2021 LAION-400M audit typed "desi", "aunty", "Latina" into a CLIP retrieval
interface and looked at what came back; "Have I Been Trained" found a patient's
private photos by image search. A probe does both inside the audit: the query is
encoded by the model that made the stored embeddings, the index returns the
nearest samples, and they become a queue reviewed like every other (blurred,
staged reveal, exposure counted), each item showing its similarity as the reason.

A picture given with ``--like-image`` is decoded in memory and encoded; only its
SHA-256 is kept, the picture itself never enters the audit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reviewer.embeddings.index import VectorIndex
from reviewer.embeddings.sets import EmbeddingSet, EmbeddingsFolder, ModelId
from reviewer.errors import ReviewerError
from reviewer.store.probes import ProbeInfo

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.embeddings.encode import QueryEncoder

MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class ProbeRequest:
    """One probe to run.

    Attributes:
        name: The queue's name.
        kind: ``text``, ``sample`` or ``image``.
        query: The text, the sample id, or the picture's path.
        top_k: How many nearest samples to queue.
        category: Category the items are suggested under (``privacy`` for pictures).
    """

    name: str
    kind: str
    query: str
    top_k: int
    category: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    """A stored probe: its info, ids in similarity order and their similarities."""

    info: ProbeInfo
    sample_ids: list[str]
    similarities: list[float]
    index_kind: str


def read_probes_file(path: Path) -> list[str]:
    """Texts of a ``--probes`` file: one per line; blank lines and ``#`` comments skipped."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewerError(
            f"--probes {path}: cannot read ({exc})", "give a UTF-8 text file"
        ) from exc
    texts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not texts:
        raise ReviewerError(f"--probes {path}: no probe texts in the file", "one text per line")
    return texts


def probe_name(prefix: str | None, text: str) -> str:
    """A queue name for a text of a probes file: ``PREFIX:text`` (slugged)."""
    slug = re.sub(r"[^\w-]+", "-", text.lower(), flags=re.UNICODE).strip("-")[:40] or "probe"
    return f"{prefix}:{slug}" if prefix else slug


def check_request(request: ProbeRequest, vectors: EmbeddingSet) -> None:
    """Refuse an empty query, a bad name, or K outside 1..vectors."""
    if not request.query.strip():
        raise ReviewerError(
            "probe: the query is empty", "give a text, --like ID or --like-image FILE"
        )
    if len(request.query) > MAX_QUERY_CHARS:
        raise ReviewerError(
            f"probe: query longer than {MAX_QUERY_CHARS} characters",
            "CLIP reads 77 tokens; shorten it",
        )
    if not request.name.strip() or not request.name.isprintable():
        raise ReviewerError(f"probe: name {request.name!r} is not usable", "give --name NAME")
    if request.top_k < 1:
        raise ReviewerError(f"--top {request.top_k}: must be at least 1", "e.g. --top 100")
    if request.top_k > vectors.rows:
        raise ReviewerError(
            f"--top {request.top_k}: the audit has only {vectors.rows:,} embedded samples",
            f"ask for at most {vectors.rows:,}",
        )


def build_requests(
    text: str | None,
    like: str | None,
    like_image: Path | str | None,
    probes_file: Path | str | None,
    top_k: int,
    name: str | None,
    category: str | None,
) -> list[ProbeRequest]:
    """The probes asked for by exactly one of a text, ``--like``, ``--like-image``, ``--probes``.

    Raises:
        ReviewerError: none or several given, an empty text, a missing picture or file.
    """
    given = [v for v in (text, like, like_image, probes_file) if v is not None]
    if len(given) != 1:
        raise ReviewerError(
            "probe: give exactly one of TEXT, --like ID, --like-image FILE, --probes FILE",
            'e.g. reviewer probe my-audit "desi" --top 100 --name desi',
        )
    if probes_file is not None:
        return [
            ProbeRequest(probe_name(name, t), "text", t, top_k, category)
            for t in read_probes_file(Path(probes_file))
        ]
    if like is not None:
        return [ProbeRequest(name or f"like:{like}", "sample", like, top_k, category)]
    if like_image is not None:
        like_image = Path(like_image)
        if not like_image.expanduser().is_file():
            raise ReviewerError(f"--like-image {like_image}: no such file", "check the path")
        return [
            ProbeRequest(
                name or "like-image", "image", str(like_image), top_k, category or "privacy"
            )
        ]
    assert text is not None
    if not text.strip():  # before a model is loaded
        raise ReviewerError("probe: the query is empty", 'give a text, e.g. "desi"')
    return [ProbeRequest(name or probe_name(None, text), "text", text, top_k, category)]


class Prober:
    """Runs probes against one embedding set of an audit.

    Args:
        audit: The audit (its store saves the queues).
        vectors: The embedding set searched.
        encoder: Encodes texts and pictures (``None`` when only ``--like`` probes run).
    """

    def __init__(self, audit: Audit, vectors: EmbeddingSet, encoder: QueryEncoder | None) -> None:
        self.audit = audit
        self.vectors = vectors
        self.encoder = encoder
        self.index = VectorIndex.open(vectors)

    def query_vector(self, request: ProbeRequest) -> tuple[np.ndarray, str, int | None]:
        """The query's vector, what is stored as its query, and its own row (``--like``)."""
        if request.kind == "sample":
            row = self.vectors.row_of(request.query)
            if row is None:
                raise ReviewerError(
                    f"--like {request.query}: no such sample with an embedding",
                    "give the sample_id of an embedded sample (see `reviewer info`)",
                )
            return self.vectors.vector_at(row), request.query, row
        if self.encoder is None:
            raise ReviewerError("probe: no encoder loaded", "give --pretrained")
        if request.kind == "image":
            path = Path(request.query)
            vector = self.encoder.image(path, self.audit.settings.images.max_pixels)[0]
            digest = hashlib.sha256(path.expanduser().read_bytes()).hexdigest()
            return vector, f"sha256:{digest}", None
        return self.encoder.texts([request.query])[0], request.query, None

    def run(self, request: ProbeRequest, replace: bool = False) -> ProbeResult:
        """Search, and store the nearest samples as the queue ``request.name``."""
        check_request(request, self.vectors)
        vector, stored_query, own_row = self.query_vector(request)
        want = request.top_k + (1 if own_row is not None else 0)
        scores, rows = self.index.search(vector[None, :], min(want, self.vectors.rows))
        kept = [
            (int(r), float(s))
            for r, s in zip(rows[0], scores[0], strict=True)
            if r >= 0 and r != own_row and np.isfinite(s)
        ][: request.top_k]
        sample_ids = [str(sid) for sid in self.vectors.ids_at([r for r, _ in kept])]
        info = ProbeInfo(
            name=request.name,
            created_at=None,
            kind=request.kind,
            query=stored_query,
            model=str(self.vectors.model),
            top_k=request.top_k,
            category=request.category,
            items=len(kept),
            spec={"index": self.index.kind, "vectors": self.vectors.rows},
        )
        similarities = [s for _, s in kept]
        self.audit.store.probes.save(info, sample_ids, similarities, replace=replace)
        return ProbeResult(info, sample_ids, similarities, self.index.kind)


def open_prober(
    audit: Audit,
    needs_encoder: bool,
    embedding_model: str | None = None,
    model: str | None = None,
    pretrained: str | None = None,
    model_config: str | None = None,
    device: str = "auto",
) -> Prober:
    """A prober on the audit's image embeddings (of ``embedding_model`` when several)."""
    from reviewer.embeddings.encode import QueryEncoder, encoder_model

    if model_config:  # a custom architecture must be known before ids are compared
        from reviewer.flaggers.models import add_clip_config

        add_clip_config(model_config)
    chosen = ModelId.parse(embedding_model) if embedding_model else None
    vectors = EmbeddingsFolder(audit.paths.embeddings).choose(chosen, "image")
    encoder = None
    if needs_encoder:
        encoder = QueryEncoder(
            encoder_model(vectors, model, pretrained), vectors.dim, device=device
        )
    return Prober(audit, vectors, encoder)
