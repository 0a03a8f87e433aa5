"""Embedding sets: memory-mapped arrays per model and kind, each row tied to a sample.

Why outside DuckDB: LAION-400M's image embeddings alone are 400M x 512 float16
= 410 GB. As ``.npy`` files they are memory-mapped, read by the index builder in
chunks and never parsed; in a database table they would be copied, typed and
locked. A set lives in ``embeddings/<model>/<kind>/``::

    manifest.json          model id, dimension, dtype, kind, parts (written last)
    part-00000.npy         the vectors, row i ...
    part-00000.ids.parquet ... belongs to sample_id row i (NULL: no sample, e.g. a duplicate)
    index/                 the vector index over the set (see reviewer.embeddings.index)

A set holds one model's vectors only: a part of another dimension is refused,
and another model gets its own folder, so vectors of two models are never
compared. Parts are written whole (temporary name, then a rename) before the
manifest names them, so an interrupted ingest leaves the set as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.atomic import write_text_atomically
from reviewer.errors import ReviewerError


@dataclass(frozen=True)
class ModelId:
    """An open_clip model as ``ARCH/PRETRAINED`` (``ViT-B-32/openai``)."""

    arch: str
    pretrained: str

    @classmethod
    def parse(cls, text: str) -> ModelId:
        """``ViT-B-32/openai`` or ``open_clip:ViT-B-32/openai`` (PRETRAINED may be a path)."""
        body = text.removeprefix("open_clip:")
        arch, sep, pretrained = body.partition("/")
        if not sep or not arch or not pretrained:
            raise ReviewerError(
                f"embedding model {text!r}: expected ARCH/PRETRAINED",
                "e.g. ViT-B-32/openai (LAION-400M) or ViT-L-14/openai (LAION-5B)",
            )
        return cls(arch, pretrained)

    def __str__(self) -> str:
        return f"open_clip:{self.arch}/{self.pretrained}"

    @property
    def slug(self) -> str:
        """A folder name for the model (``open_clip_ViT-B-32_openai``)."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", str(self)).strip("_")[:120]


DEFAULT_MODELS = {512: ModelId("ViT-B-32", "openai"), 768: ModelId("ViT-L-14", "openai")}
"""The models LAION's released embeddings come from, by dimension (LAION-400M: OpenAI
ViT-B/32; LAION-5B: OpenAI ViT-L/14)."""


@dataclass(frozen=True)
class Part:
    """One array of a set: its file, ids file, row count and where it came from."""

    name: str
    rows: int
    source: str


class EmbeddingSet:
    """The vectors of one model and kind in an audit.

    Args:
        folder: ``embeddings/<model>/<kind>``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest_path = folder / "manifest.json"
        self._manifest = self._read()
        self._ids: dict[str, pa.Array] = {}

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ReviewerError(
                f"{self.manifest_path}: unreadable ({exc})", "ingest the embeddings again"
            ) from exc
        return data

    @property
    def exists(self) -> bool:
        return bool(self._manifest)

    @property
    def model(self) -> ModelId:
        return ModelId.parse(self._manifest["model"])

    @property
    def kind(self) -> str:
        return str(self._manifest["kind"])

    @property
    def dim(self) -> int:
        return int(self._manifest["dim"])

    @property
    def parts(self) -> list[Part]:
        return [Part(**p) for p in self._manifest.get("parts", [])]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def has_source(self, source: str) -> bool:
        return any(p.source == source for p in self.parts)

    def vectors(self, part: Part) -> np.ndarray:
        """The part's vectors, memory-mapped read-only."""
        array: np.ndarray = np.load(self.folder / f"{part.name}.npy", mmap_mode="r")
        return array

    def ids(self, part: Part) -> pa.Array:
        """The part's sample ids, row-aligned (NULL where the row has no sample); read once."""
        if part.name not in self._ids:
            path = self.folder / f"{part.name}.ids.parquet"
            self._ids[part.name] = pq.read_table(path).column(0).combine_chunks()
        return self._ids[part.name]

    def ids_at(self, rows: list[int]) -> list[str | None]:
        """The sample ids of some global rows (without building the whole id column)."""
        offsets = np.cumsum([0] + [p.rows for p in self.parts])
        out: list[str | None] = []
        for row in rows:
            part = int(np.searchsorted(offsets, row, side="right") - 1)
            out.append(self.ids(self.parts[part])[row - int(offsets[part])].as_py())
        return out

    def all_ids(self) -> pa.Array:
        """Sample ids of every row, in global row order."""
        arrays = [self.ids(p) for p in self.parts]
        return pa.concat_arrays(arrays) if arrays else pa.array([], pa.string())

    def row_of(self, sample_id: str) -> int | None:
        """The global row of a sample's vector, if the set has one."""
        import pyarrow.compute as pc

        offset = 0
        for part in self.parts:
            found = pc.index(self.ids(part), sample_id).as_py()
            if found is not None and found >= 0:
                return offset + int(found)
            offset += part.rows
        return None

    def vector_at(self, row: int) -> np.ndarray:
        """The float32 vector at a global row."""
        for part in self.parts:
            if row < part.rows:
                return np.asarray(self.vectors(part)[row], np.float32)
            row -= part.rows
        raise IndexError(row)

    # ---- writing ----------------------------------------------------------------------

    def check_compatible(self, model: ModelId, dim: int, kind: str) -> None:
        """Refuse vectors that would mix with this set's (another dimension)."""
        if self.exists and (self.dim != dim or self.model != model or self.kind != kind):
            raise ReviewerError(
                f"embeddings of {model} ({kind}, {dim}-d) do not match the stored"
                f" {self.model} ({self.kind}, {self.dim}-d) vectors in {self.folder}",
                "the dimension says which model made them: check --embedding-model",
            )

    def add_part(
        self,
        model: ModelId,
        kind: str,
        source: str,
        ids: pa.Array,
        array_file: Path | None = None,
        vectors: np.ndarray | None = None,
    ) -> Part:
        """Store one array (a file copied as it is, or vectors in memory) with its ids.

        The files are written under temporary names and renamed; the manifest names the
        part last, so a failure leaves the set as it was.
        """
        dim = _dim(array_file, vectors)
        self.check_compatible(model, dim, kind)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{len(self.parts):05d}"
        tmp = self.folder / f".{name}.{os.getpid()}"
        try:
            if array_file is not None:
                shutil.copyfile(array_file, f"{tmp}.npy")
            else:
                np.save(f"{tmp}.npy", np.ascontiguousarray(vectors, np.float16))
            pq.write_table(pa.table({"sample_id": ids.cast(pa.string())}), f"{tmp}.ids.parquet")
            os.replace(f"{tmp}.npy", self.folder / f"{name}.npy")
            os.replace(f"{tmp}.ids.parquet", self.folder / f"{name}.ids.parquet")
        finally:
            for suffix in (".npy", ".ids.parquet"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        part = Part(name, len(ids), source)
        manifest = {
            "model": str(model),
            "kind": kind,
            "dim": dim,
            "dtype": "float16"
            if vectors is not None
            else str(np.load(self.folder / f"{name}.npy", mmap_mode="r").dtype),
            "parts": [*self._manifest.get("parts", []), vars(part)],
        }
        write_text_atomically(self.manifest_path, json.dumps(manifest, indent=1))
        self._manifest = manifest
        return part


def _dim(array_file: Path | None, vectors: np.ndarray | None) -> int:
    if vectors is not None:
        return int(vectors.shape[1])
    assert array_file is not None
    return int(np.load(array_file, mmap_mode="r").shape[1])


class EmbeddingsFolder:
    """``embeddings/`` of an audit: one :class:`EmbeddingSet` per model and kind."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, model: ModelId, kind: str = "image") -> EmbeddingSet:
        return EmbeddingSet(self.root / model.slug / kind)

    def sets(self) -> list[EmbeddingSet]:
        """Every stored set (with a manifest)."""
        found = [EmbeddingSet(m.parent) for m in sorted(self.root.glob("*/*/manifest.json"))]
        return [s for s in found if s.exists]

    def choose(self, model: ModelId | None = None, kind: str = "image") -> EmbeddingSet:
        """The set to probe: of ``model`` when given, else the only one of ``kind``.

        Raises:
            ReviewerError: no embeddings, none of that model, or several models to choose from.
        """
        sets = [s for s in self.sets() if s.kind == kind]
        if model is not None:
            sets = [s for s in sets if s.model == model]
        if len(sets) == 1:
            return sets[0]
        if not sets:
            what = f" of {model}" if model else ""
            raise ReviewerError(
                f"{self.root.parent}: no {kind} embeddings{what} in the audit",
                "ingest them with `reviewer ingest DIR metadata/ --embeddings img_emb/`"
                " or `reviewer flag DIR --flagger clip --store-embeddings`",
            )
        names = ", ".join(str(s.model) for s in sets)
        raise ReviewerError(
            f"the audit holds {kind} embeddings of several models ({names})",
            "choose one with --embedding-model ARCH/PRETRAINED",
        )
