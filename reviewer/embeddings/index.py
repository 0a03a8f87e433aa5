"""A vector index over an embedding set, from well-kept engines, built whole or not at all.

Engines (chosen by measurement on the audit machines, see ``benchmarks/bench_probe.py``):

- ``flat``: exact search with usearch's brute-force kernel, which reads float16
  natively (SIMD), so the memory-mapped arrays are searched as they are — no
  float32 copy (numpy's ``astype`` alone costs more than the search). Used below
  :data:`EXACT_BELOW` vectors, and as the reference recall is measured against.
- ``ivfpq``: faiss ``IndexIVFPQ`` (the index clip-retrieval serves LAION-5B from):
  ~sqrt(N) inverted lists, 64-byte codes per vector. Built in shards of
  :data:`SHARD_ROWS` vectors written to disk and merged into one on-disk inverted-list
  file (faiss ``OnDiskInvertedLists``), so building holds one shard, not the whole
  index, in RAM; searched memory-mapped. The candidates are re-ranked exactly from the
  float16 arrays, which lifts recall@100 from the codes' ~0.8 to ~0.96
  (``bench_probe.py``).
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
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reviewer.atomic import process_alive, write_text_atomically
from reviewer.embeddings.sets import EmbeddingSet
from reviewer.errors import ReviewerError, first_line

EXACT_BELOW = 200_000
"""Below this many vectors exact search answers within ~100 ms here: no index needed."""
KINDS = ("flat", "ivfpq", "hnsw")
IVFPQ_MIN = 20_000
"""Fewer vectors cannot train 256 PQ centroids per sub-quantiser (faiss wants ~39 x 256)."""
IVF_LISTS_MAX = 2**18
"""Inverted lists at most (sqrt(N) reaches it at ~69B vectors)."""
TRAIN_PER_LIST = 16
"""Training vectors per inverted list (faiss suggests 39-256; k-means for coarse lists
converges well enough on fewer, and training time grows with sample x lists)."""
TRAIN_MIN = 100_000
"""Training sample at least (the 64 PQ codebooks of 256 centroids want more than 16 a list
when lists are few)."""
TRAIN_MAX = 2**20
"""Training sample cap (float32 in RAM: 2 GiB at 512-d); with sqrt(N) lists it is still 16
vectors a list at LAION-2B-en (65,536 lists)."""
SHARD_ROWS = 2**22
"""Vectors added per shard before it is written to disk: the build holds one shard's codes
(72 B a vector, ~300 MB) and one float32 block in RAM, whatever the set's size."""
RERANK = 5
"""Approximate candidates fetched per wanted result (at least :data:`POOL_MIN`), then
re-ranked exactly. At 1M vectors 500 candidates for a top 100 recalled as much as 1,000 or
2,000 (the misses are in lists not scanned) at half the time; see docs/probe.md."""
POOL_MIN = 500
NPROBE = 256
"""Inverted lists an ivfpq query scans (all of them when there are fewer): see
``bench_probe.py`` and docs/probe.md for recall and latency at other settings."""
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
    """Inverted lists for ``vectors``: the power of two nearest sqrt(N), 64 to 2**18.

    sqrt(N), not faiss's 4-16 sqrt(N): adding assigns each vector to its nearest list by
    one BLAS product against all the centroids, so the build costs N x lists; on two
    cores 4 sqrt(N) would make the 10M build ~4x longer (16,384 lists), and a bounded
    training sample (16 a list, at most :data:`TRAIN_MAX`) stays sane up to LAION-2B-en.
    """
    wanted = np.sqrt(max(vectors, 1))
    return int(min(IVF_LISTS_MAX, max(64, 2 ** round(np.log2(wanted)))))


def training_size(vectors: int, lists: int) -> int:
    """Vectors to train ``lists`` centroids and the PQ codebooks on (bounded, see constants)."""
    return min(vectors, TRAIN_MAX, max(TRAIN_MIN, TRAIN_PER_LIST * lists))


def _build_ivfpq(
    vectors: EmbeddingSet, folder: Path, progress: Progress, threads: int
) -> dict[str, Any]:
    """faiss IVF-PQ: ~sqrt(N) lists, 64 sub-quantisers of 8 bits (64 B a vector), on disk.

    Trained once, then added shard by shard (each written to ``folder``) and merged
    into ``ivfpq.ivfdata``; the shards are deleted once merged.
    """
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
    # A flat (exact, BLAS) coarse quantiser: assigning a block of vectors is one matrix
    # product against the centroids, ~4x faster here than an HNSW graph over 16,384
    # centroids searched one vector at a time with the breadth it needs (efSearch 128),
    # and it never misassigns; a query pays ~sqrt(N) x 512 multiply-adds for it (~1 ms).
    index = faiss.index_factory(vectors.dim, f"IVF{nlist},PQ{m}", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.niter = 10  # k-means converges enough for coarse lists; 25 doubles training
    # index_factory turns on polysemous training (codes ordered for Hamming filtering, which
    # the search never uses): training took 190 s CPU at 50k vectors with it, 5.6 s without.
    faiss.downcast_index(index).do_polysemous_training = False
    started = time.perf_counter()
    sample = _training_sample(vectors, training_size(total, nlist))
    index.train(sample)
    trained_on = len(sample)
    del sample
    trained = folder / "trained.faiss"
    faiss.write_index(index, str(trained))
    del index
    train_s = time.perf_counter() - started
    shards = _add_in_shards(faiss, vectors, trained, progress)
    add_s = time.perf_counter() - started - train_s
    _merge_shards(faiss, trained, shards, folder)
    return {
        "engine": f"faiss {faiss.__version__}",
        "nlist": nlist,
        "m": m,
        "nprobe": min(NPROBE, nlist),
        "train_vectors": trained_on,
        "shards": len(shards),
        "train_s": round(train_s, 1),
        "add_s": round(add_s, 1),
        "merge_s": round(time.perf_counter() - started - train_s - add_s, 1),
    }


def _add_in_shards(
    faiss: Any, vectors: EmbeddingSet, trained: Path, progress: Progress
) -> list[Path]:
    """Add the set to copies of the trained index, writing one to disk every SHARD_ROWS."""
    shards: list[Path] = []
    shard: Any = None
    done = 0
    for rows, block in valid_blocks(vectors, rows=min(262_144, SHARD_ROWS)):
        if shard is None:
            shard = faiss.read_index(str(trained))
        shard.add_with_ids(block.astype(np.float32), rows)
        done += len(rows)
        progress(done, vectors.rows)
        if shard.ntotal >= SHARD_ROWS:
            shards.append(_write_shard(faiss, shard, trained.parent, len(shards)))
            shard = None
    if shard is not None:
        shards.append(_write_shard(faiss, shard, trained.parent, len(shards)))
    return shards


def _write_shard(faiss: Any, shard: Any, folder: Path, number: int) -> Path:
    path = folder / f"shard-{number:05d}.faiss"
    faiss.write_index(shard, str(path))
    return path


@contextmanager
def _c_stdout_to_stderr() -> Iterator[None]:
    """Send what C code prints to stderr for a while.

    faiss's on-disk lists print "resizing FILE to N bytes" with ``printf``, which would
    land among a command's own output on stdout.
    """
    import ctypes

    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def _merge_shards(faiss: Any, trained: Path, shards: list[Path], folder: Path) -> None:
    """Merge the shards' lists into ``ivfpq.ivfdata`` (faiss's on-disk inverted lists).

    ``merge_ondisk`` reads each shard memory-mapped and copies list by list into the
    file, so this step too holds no more than the page cache lends it.
    """
    from faiss.contrib.ondisk import merge_ondisk

    index = faiss.read_index(str(trained))
    with _c_stdout_to_stderr():
        merge_ondisk(index, [str(s) for s in shards], str(folder / "ivfpq.ivfdata"))
    faiss.write_index(index, str(folder / "ivfpq.faiss"))
    del index
    for path in [trained, *shards]:
        path.unlink()


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
        what = first_line(exc, 160)
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
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _swap(new: Path, final: Path) -> None:
    """Put ``new`` in place of ``final``; the old index is removed only once the new is there."""
    old = final.with_name(f"index.{os.getpid()}.old")
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def _read_ivfpq(faiss: Any, folder: Path) -> Any:
    """The ivfpq index in ``folder``, its codes memory-mapped.

    On-disk lists (the sharded build) are mapped from ``ivfpq.ivfdata`` beside the index
    file: the file names the path the build wrote them to, inside ``index.<pid>.tmp/``.
    (faiss's ``IO_FLAG_ONDISK_SAME_DIR`` does the same but prints to stdout, which would
    corrupt ``--json`` output, and ``IO_FLAG_MMAP`` crashes faiss 1.15 on on-disk lists;
    it is for indexes whose lists are inside the index file, built before the shards.)
    """
    lists_file = folder / "ivfpq.ivfdata"
    if not lists_file.exists():
        return faiss.read_index(str(folder / "ivfpq.faiss"), faiss.IO_FLAG_MMAP)
    index = faiss.read_index(
        str(folder / "ivfpq.faiss"), faiss.IO_FLAG_SKIP_IVF_DATA | faiss.IO_FLAG_READ_ONLY
    )
    lists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(index).invlists)
    lists.filename = str(lists_file)
    lists.do_mmap()
    return index


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
        faiss = _faiss()
        ivf = faiss.extract_index_ivf(self._engine)
        ivf.nprobe = self._nprobe or int(self.info.params.get("nprobe", NPROBE))
        quantizer = faiss.downcast_index(ivf.quantizer)
        if hasattr(quantizer, "hnsw"):  # indexes built before the flat quantiser
            quantizer.hnsw.efSearch = max(64, 2 * ivf.nprobe)

    def _load(self) -> Any:
        if self._engine is None and self.folder is not None and self.info is not None:
            if self.info.kind == "ivfpq":
                faiss = _faiss()
                self._engine = _read_ivfpq(faiss, self.folder)
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
