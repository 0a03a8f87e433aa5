"""Storing paired arrays once their metadata files are in the audit (``ingest --embeddings``).

Pairing and every check run before ingest reads a row (:func:`prepare`); once
the metadata files are ingested, each array is copied into its set with the
sample id of each row, looked up by ``(source_file, source_row)`` — the place a
row came from, which ingest records for every sample. A row that did not become
a sample (a duplicate id, say) keeps its place with a NULL id, so row i stays row i.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from reviewer.embeddings.pairing import Pair, kind_of, pair_files
from reviewer.embeddings.sets import DEFAULT_MODELS, EmbeddingSet, EmbeddingsFolder, ModelId
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.audit import Audit


@dataclass(frozen=True)
class EmbeddingPlan:
    """What ``ingest --embeddings`` will store: checked pairs, the model, the set."""

    pairs: list[Pair]
    model: ModelId
    kind: str
    target: EmbeddingSet


@dataclass(frozen=True)
class Attached:
    """One array stored (or skipped because its source is already in the set)."""

    pair: Pair
    rows_with_sample: int
    skipped: bool = False


def prepare(
    audit: Audit, metadata: list[Path], embeddings: Path, model: str | None, kind: str | None
) -> EmbeddingPlan:
    """Pair and check everything before ingest starts (see :func:`pair_files`).

    Args:
        model: ``ARCH/PRETRAINED``; by default inferred from the dimension (512:
            ViT-B-32/openai as LAION-400M, 768: ViT-L-14/openai as LAION-5B).
        kind: ``image`` or ``text``; by default ``text`` for ``text_emb`` arrays.

    Raises:
        ReviewerError: anything :func:`pair_files` refuses, an unknown dimension without
            ``--embedding-model``, or vectors that do not fit the stored set of that model.
    """
    pairs = pair_files(metadata, embeddings)
    dim = pairs[0].array.dim
    if model is None and dim not in DEFAULT_MODELS:
        raise ReviewerError(
            f"--embeddings {embeddings}: {dim}-d vectors of an unknown model",
            "name it with --embedding-model ARCH/PRETRAINED",
        )
    chosen = ModelId.parse(model) if model else DEFAULT_MODELS[dim]
    chosen_kind = kind or kind_of(pairs[0].array.path)
    target = EmbeddingsFolder(audit.paths.embeddings).get(chosen, chosen_kind)
    target.check_compatible(chosen, dim, chosen_kind)
    return EmbeddingPlan(pairs, chosen, chosen_kind, target)


def attach(audit: Audit, plan: EmbeddingPlan) -> list[Attached]:
    """Copy each checked array into the set with its rows' sample ids."""
    results = []
    for pair in plan.pairs:
        source = _source_of(audit, pair.metadata)
        if plan.target.has_source(source):
            results.append(Attached(pair, 0, skipped=True))
            continue
        ids = _row_ids(audit, source, pair.array.rows)
        plan.target.add_part(plan.model, plan.kind, source, ids, array_file=pair.array.path)
        results.append(Attached(pair, len(ids) - ids.null_count))
    return results


def _source_of(audit: Audit, metadata: Path) -> str:
    """The ``source_file`` the metadata's samples carry (an earlier path if it was
    ingested before under another name)."""
    from reviewer.ingest.sources import fingerprint

    size, fp = fingerprint(metadata)
    found = audit.store.ingest.ingested_as(size, fp)
    return found if found is not None else str(metadata)


def _row_ids(audit: Audit, source: str, rows: int) -> pa.Array:
    table = audit.store.probes.rows_of_file(source)
    ids = np.full(rows, None, dtype=object)
    positions = table.column("source_row").to_numpy()
    if positions.size and (positions.min() < 0 or positions.max() >= rows):
        raise ReviewerError(
            f"{source}: its samples' rows do not fit an array of {rows:,} vectors",
            "the metadata changed since it was ingested; nothing was stored",
        )
    ids[positions] = table.column("sample_id").to_pylist()
    return pa.array(ids.tolist(), pa.string())
