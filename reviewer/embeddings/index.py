"""A vector index over an embedding set, from well-kept engines, built whole or not at all.

Engines (chosen by measurement on the audit machines, see ``benchmarks/bench_probe.py``):

- ``flat``: exact search with usearch's brute-force kernel, which reads float16
  natively (SIMD), so the memory-mapped arrays are searched as they are — no
  float32 copy (numpy's ``astype`` alone costs more than the search). Used below
  :data:`EXACT_BELOW` vectors, and as the reference recall is measured against.
- ``ivfpq``: faiss ``IndexIVFPQ`` (the index clip-retrieval serves LAION-5B from):
  ~4 sqrt(N) inverted lists, 64-byte codes per vector, read memory-mapped at search
  time; the candidates are re-ranked exactly from the float16 arrays, which lifts
  recall@100 from the codes' 0.83 to 0.96 at 1M vectors (``bench_probe.py``).
- ``hnsw``: usearch's HNSW graph over int8-quantised vectors, memory-mapped
  (``view``), re-ranked exactly from the arrays like ``ivfpq``.

The index is written into ``index.<pid>.tmp/`` and renamed over ``index/`` only
when complete, so a failed or interrupted build leaves the previous index usable.
Labels inside an index are global row numbers of the set (rows without a sample
are left out); :class:`~reviewer.embeddings.sets.EmbeddingSet` maps them to ids.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reviewer.atomic import write_text_atomically
from reviewer.embeddings.sets import EmbeddingSet
from reviewer.errors import ReviewerError

EXACT_BELOW = 200_000
"""Below this many vectors exact search answers within ~100 ms here: no index needed."""
KINDS = ("flat", "ivfpq", "hnsw")
IVFPQ_MIN = 20_000
"""Fewer vectors cannot train 256 PQ centroids per sub-quantiser (faiss wants ~39 x 256)."""
IVF_LISTS_MAX = 2**18
"""Inverted lists at most (4 sqrt(N) reaches it at ~4.3B vectors)."""
TRAIN_PER_LIST = 16
"""Training vectors per inverted list (faiss suggests 39-256; k-means for coarse lists
converges well enough on fewer, and training time grows with sample x lists)."""
TRAIN_MAX = 1_000_000
"""Training sample cap (float32 in RAM: 2 GB at 512-d)."""
RERANK = 5
"""Approximate candidates fetched per wanted result (at least :data:`POOL_MIN`), then
re-ranked exactly. At 1M vectors 500 candidates for a top 100 recalled as much as 1,000 or
2,000 (the misses are in lists not scanned) at half the time; see docs/probe.md."""
POOL_MIN = 500
NPROBE = 256
"""Inverted lists an ivfpq query scans: recall@100 0.93 / 0.95 / 0.96 / 0.97 at nprobe
64 / 128 / 256 / 512 over 1M vectors (4,096 lists), 10-16 ms CPU a query."""

Progress = Callable[[int, int | None], None]


@dataclass
class IndexInfo:
    """``index/index.json``: what was built over how many vectors, and how well it recalls."""

    kind: str
    rows: int
    dim: int
    model: str
    build_seconds: float
    recall_at_k: float | None = None
    recall_k: int = 0
    params: dict[str, Any] = field(default_factory=dict)


def _usearch() -> Any:
    try:
        import usearch.index as usearch_index
    except ImportError as exc:
        raise ReviewerError(
            "vector search needs usearch and faiss-cpu", "install the [ml] extra"
        ) from exc
    return usearch_index


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise ReviewerError("--kind ivfpq needs faiss-cpu", "install the [ml] extra") from exc
    return faiss


# ---- exact search -------------------------------------------------------------------------


def exact_search(
    vectors: EmbeddingSet, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best inner products of each query over every part (global rows, scores).

    Each part is searched by usearch's exact kernel on its float16 memory map and the
    per-part top-k lists are merged; rows without a sample never come back.
    """
    usearch_index = _usearch()
    queries = np.atleast_2d(queries).astype(np.float16)
    best_rows = np.full((len(queries), 0), -1, np.int64)
    best_scores = np.full((len(queries), 0), -np.inf, np.float32)
    offset = 0
    for part in vectors.parts:
        data = vectors.vectors(part)
        valid = vectors.ids(part).is_valid().to_numpy(zero_copy_only=False)
        want = min(part.rows, k + int((~valid).sum()))
        if want:
            found = usearch_index.search(
                data,
                queries,
                want,
                usearch_index.MetricKind.IP,
                exact=True,
                threads=os.cpu_count() or 1,
            )
            keys = np.atleast_2d(found.keys).astype(np.int64)
            scores = 1.0 - np.atleast_2d(found.distances).astype(np.float32)
            scores[~valid[np.clip(keys, 0, part.rows - 1)] | (keys < 0)] = -np.inf
            best_rows = np.concatenate([best_rows, keys + offset], axis=1)
            best_scores = np.concatenate([best_scores, scores], axis=1)
            best_rows, best_scores = _top(best_rows, best_scores, k)
        offset += part.rows
    return best_scores, best_rows


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(rows, order, 1), np.take_along_axis(scores, order, 1)


def rerank(
    vectors: EmbeddingSet, queries: np.ndarray, candidates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact scores of each query's candidate rows (from the float16 arrays); the top ``k``.

    Written here, not with faiss's ``IndexRefineFlat``: that keeps every vector in RAM as
    float32 (20 GB at 10M x 512), while a thousand candidates read from the memory map
    and one small matrix product cost about a millisecond.
    """
    offsets = np.cumsum([0] + [p.rows for p in vectors.parts])
    maps = [vectors.vectors(p) for p in vectors.parts]
    out_scores = np.full((len(queries), k), -np.inf, np.float32)
    out_rows = np.full((len(queries), k), -1, np.int64)
    for qi, query in enumerate(queries):
        rows = np.unique(candidates[qi][candidates[qi] >= 0])
        if rows.size == 0:
            continue
        block = np.empty((rows.size, vectors.dim), np.float32)
        part_of = np.searchsorted(offsets, rows, side="right") - 1
        for p in np.unique(part_of):
            mine = part_of == p
            block[mine] = maps[p][rows[mine] - offsets[p]]  # rows are sorted
        scores = block @ query.astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        out_scores[qi, : order.size] = scores[order]
        out_rows[qi, : order.size] = rows[order]
    return out_scores, out_rows


# ---- building -----------------------------------------------------------------------------


def valid_blocks(
    vectors: EmbeddingSet, rows: int = 262_144
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(global rows, float16 block) of the rows that have a sample, part by part."""
    offset = 0
    for part in vectors.parts:
        data = vectors.vectors(part)
        valid = vectors.ids(part).is_valid().to_numpy(zero_copy_only=False)
        for start in range(0, part.rows, rows):
            keep = np.flatnonzero(valid[start : start + rows])
            if keep.size:
                yield offset + start + keep, np.asarray(data[start : start + rows][keep])
        offset += part.rows


def _training_sample(vectors: EmbeddingSet, count: int, seed: int = 0) -> np.ndarray:
    """``count`` vectors drawn evenly over the set (float32), for IVF/PQ training."""
    total = vectors.rows
    picks = np.unique(np.linspace(0, total - 1, min(count, total)).astype(np.int64))
    rng = np.random.default_rng(seed)
    picks = np.unique(
        np.clip(
            picks + rng.integers(0, max(1, total // max(1, picks.size)), picks.size), 0, total - 1
        )
    )
    offsets = np.cumsum([0] + [p.rows for p in vectors.parts])
    out = np.empty((picks.size, vectors.dim), np.float32)
    part_of = np.searchsorted(offsets, picks, side="right") - 1
    for p in np.unique(part_of):
        mine = part_of == p
        out[mine] = vectors.vectors(vectors.parts[p])[picks[mine] - offsets[p]]
    return out


def ivf_lists(vectors: int) -> int:
    """Inverted lists for ``vectors``: the power of two nearest 4 sqrt(N), 64 to 2**18."""
    wanted = 4 * np.sqrt(max(vectors, 1))
    return int(min(IVF_LISTS_MAX, max(64, 2 ** round(np.log2(wanted)))))


def _build_ivfpq(
    vectors: EmbeddingSet, folder: Path, progress: Progress, threads: int
) -> dict[str, Any]:
    """faiss IVF-PQ: nlist ~ 4 sqrt(N) lists, 64 sub-quantisers of 8 bits (64 B a vector)."""
    faiss = _faiss()
    total = vectors.rows
    if total < IVFPQ_MIN:
        raise ReviewerError(
            f"--kind ivfpq: {total:,} vectors are too few to train it (needs {IVFPQ_MIN:,})",
            "use --kind flat (exact) or hnsw",
        )
    faiss.omp_set_num_threads(threads)
    nlist = ivf_lists(total)
    m = next(
        d for d in (64, 48, 32, 16, 8, 4, 2, 1) if d <= vectors.dim // 8 and vectors.dim % d == 0
    )
    # An HNSW coarse quantiser: assigning 10M vectors to 4096 lists by brute force
    # would be 40 TFLOP on 2 cores; the graph needs a few hundred distances a vector.
    index = faiss.index_factory(vectors.dim, f"IVF{nlist}_HNSW32,PQ{m}", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.niter = 10  # k-means converges enough for coarse lists; 25 doubles training
    # index_factory turns on polysemous training (codes ordered for Hamming filtering, which
    # the search never uses): training took 190 s CPU at 50k vectors with it, 5.6 s without.
    faiss.downcast_index(index).do_polysemous_training = False
    sample = _training_sample(vectors, min(TRAIN_MAX, TRAIN_PER_LIST * nlist))
    index.train(sample)
    trained_on = len(sample)
    del sample
    # The graph's search breadth decides which list each added vector lands in: faiss's
    # default (16) misassigns many (measured recall@100 0.54 at 100k), so widen it.
    faiss.downcast_index(ivf.quantizer).hnsw.efSearch = 128
    done = 0
    for rows, block in valid_blocks(vectors):
        index.add_with_ids(block.astype(np.float32), rows)
        done += len(rows)
        progress(done, total)
    faiss.write_index(index, str(folder / "ivfpq.faiss"))
    return {
        "engine": f"faiss {faiss.__version__}",
        "nlist": nlist,
        "m": m,
        "nprobe": NPROBE,
        "train_vectors": trained_on,
    }


def _build_hnsw(
    vectors: EmbeddingSet, folder: Path, progress: Progress, threads: int
) -> dict[str, Any]:
    """usearch HNSW over int8 vectors (connectivity 16), saved for memory-mapped views."""
    usearch_index = _usearch()
    index = usearch_index.Index(
        ndim=vectors.dim,
        metric="ip",
        dtype="i8",
        connectivity=16,
        expansion_add=128,
        expansion_search=128,
    )
    total = vectors.rows
    done = 0
    for rows, block in valid_blocks(vectors, rows=65_536):
        index.add(rows, block, threads=threads)
        done += len(rows)
        progress(done, total)
    index.save(str(folder / "hnsw.usearch"))
    version = getattr(usearch_index, "__version__", "") or _version("usearch")
    return {"engine": f"usearch {version}", "connectivity": 16, "expansion_search": 128}


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


_BUILDERS = {"ivfpq": _build_ivfpq, "hnsw": _build_hnsw}


def index_folder(vectors: EmbeddingSet) -> Path:
    return vectors.folder / "index"


def build_index(
    vectors: EmbeddingSet,
    kind: str | None = None,
    progress: Progress | None = None,
    recall_queries: int = 50,
    threads: int | None = None,
) -> IndexInfo:
    """Build the set's index (``kind=None``: flat below :data:`EXACT_BELOW`, else ivfpq).

    The recall@100 of an approximate index against exact search is measured on
    ``recall_queries`` of the set's own vectors and recorded.

    Raises:
        ReviewerError: an unknown kind, an empty set, or an engine failure (the
            previous index is kept).
    """
    if not vectors.exists or vectors.rows == 0:
        raise ReviewerError(f"{vectors.folder}: no embeddings to index", "ingest embeddings first")
    chosen = kind or ("flat" if vectors.rows < EXACT_BELOW else "ivfpq")
    if chosen not in KINDS:
        raise ReviewerError(f"--kind {kind}: unknown index kind", f"use {', '.join(KINDS)}")
    final = index_folder(vectors)
    _remove_abandoned_builds(vectors.folder)
    tmp = vectors.folder / f"index.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    started = time.perf_counter()
    try:
        params = {"engine": "usearch exact"}
        if chosen != "flat":
            params = _BUILDERS[chosen](
                vectors, tmp, progress or (lambda done, total: None), threads or os.cpu_count() or 1
            )
        info = IndexInfo(
            chosen,
            vectors.rows,
            vectors.dim,
            str(vectors.model),
            round(time.perf_counter() - started, 3),
            params=params,
        )
        if chosen != "flat":
            index = VectorIndex(vectors, tmp, info)
            info.recall_k, info.recall_at_k = index.measure_recall(recall_queries)
        write_text_atomically(tmp / "index.json", json.dumps(asdict(info), indent=1))
        _swap(tmp, final)
    except (RuntimeError, MemoryError, OSError) as exc:
        what = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ReviewerError(
            f"index build failed ({what})",
            "the previous index (if any) is unchanged; free memory or disk and retry",
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def _remove_abandoned_builds(folder: Path) -> None:
    """Delete ``index.<pid>.tmp/`` folders of builds whose process is gone.

    A build killed by a signal cannot clean up after itself, and at 10M vectors its
    folder holds about 1 GB; a build still running (its pid alive) is left alone.
    """
    for tmp in folder.glob("index.*.tmp"):
        pid = tmp.name.split(".")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _swap(new: Path, final: Path) -> None:
    """Put ``new`` in place of ``final``; the old index is removed only once the new is there."""
    old = final.with_name(f"index.{os.getpid()}.old")
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


# ---- searching ----------------------------------------------------------------------------


class VectorIndex:
    """Search an embedding set through its index (or exactly, without one).

    Args:
        vectors: The embedding set.
        folder: The index folder (``None``: exact search).
        info: What ``index.json`` says (``None``: exact search).
    """

    def __init__(self, vectors: EmbeddingSet, folder: Path | None, info: IndexInfo | None) -> None:
        self.vectors = vectors
        self.folder = folder
        self.info = info
        self._engine: Any = None
        self._nprobe: int | None = None
        self._candidates: int | None = None

    @classmethod
    def open(cls, vectors: EmbeddingSet) -> VectorIndex:
        """The set's built index when it covers every vector now stored, else exact search."""
        folder = index_folder(vectors)
        try:
            info = IndexInfo(**json.loads((folder / "index.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return cls(vectors, None, None)
        if info.rows != vectors.rows or info.kind == "flat":
            return cls(vectors, None, None if info.rows != vectors.rows else info)
        return cls(vectors, folder, info)

    @property
    def kind(self) -> str:
        return "flat" if self.folder is None or self.info is None else self.info.kind

    def tune(self, nprobe: int | None = None, candidates: int | None = None) -> None:
        """Search breadth other than the index's recorded defaults (benchmarks compare them).

        Args:
            nprobe: Inverted lists an ivfpq query scans.
            candidates: Approximate candidates re-ranked exactly per query; 0 returns the
                engine's own (approximate) order and scores without re-ranking.
        """
        self._nprobe = nprobe
        self._candidates = candidates
        if self._engine is not None and self.kind == "ivfpq":
            self._set_nprobe()

    def _set_nprobe(self) -> None:
        assert self.info is not None
        ivf = _faiss().extract_index_ivf(self._engine)
        ivf.nprobe = self._nprobe or int(self.info.params.get("nprobe", NPROBE))
        _faiss().downcast_index(ivf.quantizer).hnsw.efSearch = max(64, 2 * ivf.nprobe)

    def _load(self) -> Any:
        if self._engine is None and self.folder is not None and self.info is not None:
            if self.info.kind == "ivfpq":
                faiss = _faiss()
                self._engine = faiss.read_index(
                    str(self.folder / "ivfpq.faiss"), faiss.IO_FLAG_MMAP
                )
                self._set_nprobe()
            else:
                self._engine = _usearch().Index.restore(
                    str(self.folder / "hnsw.usearch"), view=True
                )
        return self._engine

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and global rows of the ``k`` nearest vectors of each query (best first)."""
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        if self.kind == "flat":
            return exact_search(self.vectors, queries, k)
        engine = self._load()
        pool = max(k * RERANK, POOL_MIN) if self._candidates is None else self._candidates
        want = min(self.vectors.rows, max(pool, k))
        if self.kind == "ivfpq":
            scores, candidates = engine.search(queries, want)
        else:
            found = engine.search(queries.astype(np.float16), want, threads=os.cpu_count() or 1)
            candidates = np.atleast_2d(found.keys).astype(np.int64)
            scores = 1.0 - np.atleast_2d(found.distances).astype(np.float32)
        if pool == 0:
            return scores[:, :k], candidates[:, :k]
        return rerank(self.vectors, queries, candidates, k)

    def measure_recall(self, count: int, k: int = 100) -> tuple[int, float]:
        """recall@k of this index against exact search, on ``count`` of the set's vectors."""
        k = min(k, self.vectors.rows)
        rows = np.unique(np.linspace(0, self.vectors.rows - 1, count).astype(np.int64))
        queries = np.stack([self.vectors.vector_at(int(r)) for r in rows])
        _, approx = self.search(queries, k)
        _, exact = exact_search(self.vectors, queries, k)
        hits = [
            len(set(a[a >= 0].tolist()) & set(e[e >= 0].tolist()))
            for a, e in zip(approx, exact, strict=True)
        ]
        wanted = [max(1, int((e >= 0).sum())) for e in exact]
        return k, float(np.mean([h / w for h, w in zip(hits, wanted, strict=True)]))
