"""Pairing metadata files with embedding arrays, file by file, or refusing.

LAION and clip-retrieval name the two halves of a shard by the same index:
``metadata/metadata_{i}.parquet`` (or ``{i}.parquet``) holds the rows whose
vectors are ``img_emb/img_emb_{i}.npy`` (and ``text_emb/text_emb_{i}.npy``),
row i of the array being row i of the parquet. Any doubt — a missing array, a
row count that differs, a dimension another set of the same model does not
have — refuses the whole ingest before a single row is read: a shifted
pairing would silently attach one image's vector to another's caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.embeddings.npy import NpyInfo, read_npy_info
from reviewer.errors import ReviewerError

_INDEX = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Pair:
    """One metadata file and the array whose row i embeds its row i."""

    metadata: Path
    array: NpyInfo


def shard_index(path: Path) -> int | None:
    """The shard number at the end of a file's stem (``img_emb_7`` -> 7), if any."""
    match = _INDEX.search(path.stem)
    return int(match.group(1)) if match else None


def kind_of(path: Path) -> str:
    """``text`` for LAION's ``text_emb`` arrays, else ``image``."""
    return "text" if "text" in path.name.lower() else "image"


def pair_files(metadata: list[Path], embeddings: Path) -> list[Pair]:
    """Pair each metadata file with its array and check their row counts agree.

    Args:
        metadata: The parquet files being ingested.
        embeddings: One ``.npy`` (exactly one metadata file then) or a folder of
            ``*_emb_{i}.npy`` arrays matched by shard index.

    Raises:
        ReviewerError: a missing or ambiguous array, a non-parquet metadata file, a
            row count that differs, or a bad array (see :func:`read_npy_info`).
    """
    if embeddings.is_file():
        if len(metadata) != 1:
            raise ReviewerError(
                f"--embeddings {embeddings}: one array for {len(metadata)} metadata files",
                "give the folder of img_emb_N.npy files, or ingest one metadata file",
            )
        pairs = [Pair(metadata[0], read_npy_info(embeddings))]
    elif embeddings.is_dir():
        arrays = _arrays_by_index(embeddings)
        pairs = [Pair(m, read_npy_info(_array_for(m, arrays, embeddings))) for m in metadata]
    else:
        raise ReviewerError(f"--embeddings {embeddings}: no such file or folder", "check the path")
    for pair in pairs:
        _check_rows(pair)
    dims = {p.array.dim for p in pairs}
    if len(dims) > 1:
        raise ReviewerError(
            f"--embeddings {embeddings}: arrays of different dimensions {sorted(dims)}",
            "one model's arrays at a time (512-d ViT-B/32, 768-d ViT-L/14)",
        )
    return pairs


def _arrays_by_index(folder: Path) -> dict[int, list[Path]]:
    found: dict[int, list[Path]] = {}
    for path in sorted(folder.glob("*.npy")):
        index = shard_index(path)
        if index is not None:
            found.setdefault(index, []).append(path)
    return found


def _array_for(metadata: Path, arrays: dict[int, list[Path]], folder: Path) -> Path:
    index = shard_index(metadata)
    if index is None:
        raise ReviewerError(
            f"{metadata}: no shard number at the end of its name to pair it by",
            "name it metadata_N.parquet, or pair it explicitly with --embeddings FILE.npy",
        )
    candidates = arrays.get(index, [])
    if not candidates:
        raise ReviewerError(
            f"{metadata}: no array numbered {index} in {folder} (e.g. img_emb_{index}.npy)",
            "nothing was ingested; add the array or leave this metadata file out",
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise ReviewerError(
            f"{metadata}: several arrays numbered {index} in {folder} ({names})",
            "give img_emb/ and text_emb/ as separate folders",
        )
    return candidates[0]


def _check_rows(pair: Pair) -> None:
    if pair.metadata.suffix.lower() != ".parquet":
        raise ReviewerError(
            f"{pair.metadata}: embeddings pair only with parquet metadata",
            "ingest the metadata parquet files LAION released with the arrays",
        )
    try:
        rows = pq.ParquetFile(pair.metadata).metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise ReviewerError(
            f"{pair.metadata}: cannot read the parquet footer ({exc})", "fetch the file again"
        ) from exc
    if rows != pair.array.rows:
        raise ReviewerError(
            f"{pair.array.path}: {pair.array.rows:,} vectors for {rows:,} rows of"
            f" {pair.metadata.name}",
            "row i of the array must embed row i of the metadata; nothing was ingested",
        )
