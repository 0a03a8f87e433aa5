"""Benchmark ``reviewer index`` / ``reviewer probe`` at 1M and 10M vectors.

What it does, per size:

1. ``reviewer init`` an audit under ``--workdir`` and write an image embedding set into
   it: synthetic clustered 512-d float16 unit vectors (a mixture of ``--clusters``
   Gaussian clusters on the unit sphere; within a cluster the spread falls off by a
   power law over a random basis, as CLIP embeddings' principal components do, or is
   isotropic with ``--spectrum flat``, a harder case). Each 1M-row part is generated in
   chunks straight into a memory-mapped ``.npy`` and stored by the same
   ``EmbeddingSet.add_part`` that ``reviewer ingest --embeddings`` uses; nothing holds
   the set in RAM.
2. The baseline: exact search (usearch's float16 kernel over every memory-mapped part,
   the per-part top-100 lists merged) — all queries at once for the ground truth, and a
   few single queries timed.
3. ``reviewer index AUDIT --kind K`` as its own process (the CLI users run): wall and
   CPU seconds, peak RSS from ``wait4`` (file-backed pages of the memory maps
   included), index size on disk, the recall the command prints.
4. Single-query latency p50/p95 (top 100, as ``reviewer probe`` asks) through
   ``VectorIndex.search`` in a fresh process, at the index's defaults and at other
   search breadths, with and without the exact re-ranking from the float16 arrays;
   then again with the set's and the index's pages evicted from the page cache
   (``posix_fadvise(DONTNEED)`` on our own files), as a first probe after a reboot sees.
5. recall@100 of each against the exact ground truth, for two kinds of query: a stored
   vector itself (``--like``) and a noisy copy far off it (a text query lands near,
   not on, an image: cosine ~0.6 to the vector it came from).

clip-retrieval's published figures are printed beside ours, and a projection to
LAION-400M and LAION-2B-en from the measured per-vector rates.

Usage: ``.venv/bin/python benchmarks/bench_probe.py --workdir /work/data-probe
[--sizes 1000000,10000000] [--kinds ivfpq] [--queries 100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from bench_scale import REVIEWER, Measured, measure

PART_ROWS = 1_000_000
CHUNK = 50_000
DIM = 512
K = 100
MODEL = "ViT-B-32/openai"
CLIP_RETRIEVAL = (
    "clip-retrieval (published): LAION-5B, 5.55B vectors, IVF-PQ (autofaiss) memory-mapped,"
    " served from a 16 GB RAM machine at ~50 ms a query; K=100,000 lookups in under 10 ms"
)
AUTOFAISS = (
    "autofaiss (published, pypi README): 200M vectors (1 TB) indexed in 3 hours in 15 GB of"
    " memory, ~10 ms a query (machine not stated)"
)
DATASETS = {"LAION-400M": 413_000_000, "LAION-2B-en": 2_320_000_000}
TARGETS = "targets: 10M indexed within 24 GB, query p50 <= 100 ms, recall@100 >= 0.95"


# ---- data -----------------------------------------------------------------------------------


def generate(audit: Path, rows: int, clusters: int, spectrum: str, seed: int = 0) -> Path:
    """Write ``rows`` clustered unit vectors into the audit's image embedding set."""
    import pyarrow as pa

    from reviewer.audit import Audit
    from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

    stored = EmbeddingsFolder(Audit.open(audit).paths.embeddings).get(ModelId.parse(MODEL))
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    basis, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    scale = (np.arange(1, DIM + 1) ** -0.5 if spectrum == "powerlaw" else np.ones(DIM)).astype(
        np.float32
    )
    # Spread so a vector's cosine to its cluster centre is ~0.75 (0.8 in the old benchmark).
    scale *= 0.85 / np.sqrt((scale**2).sum())
    shaping = (scale[:, None] * basis.T).astype(np.float32)
    staging = audit.parent / "staging.npy"
    for start in range(0, rows, PART_ROWS):
        n = min(PART_ROWS, rows - start)
        part = np.lib.format.open_memmap(staging, "w+", np.float16, (n, DIM))
        for chunk in range(0, n, CHUNK):
            m = min(CHUNK, n - chunk)
            x = centres[rng.integers(0, clusters, m)]
            x += rng.standard_normal((m, DIM), dtype=np.float32) @ shaping
            part[chunk : chunk + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        part.flush()
        del part
        ids = pa.array([f"s{start + i}" for i in range(n)], pa.string())
        stored.add_part(ModelId.parse(MODEL), "image", f"synthetic-{start}", ids, staging)
        staging.unlink()
    return stored.folder


def stored_set(audit: Path, size: int) -> Path | None:
    """The image set of an audit an earlier ``--keep`` run left, if it has ``size`` rows."""
    from reviewer.embeddings.sets import EmbeddingSet

    for folder in audit.glob("embeddings/*/image"):
        if EmbeddingSet(folder).rows == size:
            return folder
    return None


def make_queries(folder: Path, count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Half stored vectors (``--like``), half noisy copies (text-like); the kind of each."""
    from reviewer.embeddings.sets import EmbeddingSet

    stored = EmbeddingSet(folder)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, stored.rows, count)
    q = np.stack([stored.vector_at(int(r)) for r in rows])
    noisy = np.arange(count) % 2 == 1
    q[noisy] += 1.2 * rng.standard_normal((int(noisy.sum()), DIM)).astype(np.float32) / np.sqrt(DIM)
    return q / np.linalg.norm(q, axis=1, keepdims=True), noisy


def evict(paths: list[Path]) -> None:
    """Drop our own files' pages from the page cache (a cold start, without root)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def set_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.npy")) + sorted((folder / "index").glob("*"))


# ---- children -------------------------------------------------------------------------------


def child_exact(folder: Path, count: int, singles: int, out: Path) -> None:
    """Ground truth (all queries at once) and a few timed single exact queries."""
    from reviewer.embeddings.index import exact_search
    from reviewer.embeddings.sets import EmbeddingSet

    stored = EmbeddingSet(folder)
    q, _ = make_queries(folder, count)
    started, cpu = time.perf_counter(), time.process_time()
    _, rows = exact_search(stored, q, K)
    batch = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}
    latencies = []
    for v in q[:singles]:
        started = time.perf_counter()
        exact_search(stored, v[None, :], K)
        latencies.append((time.perf_counter() - started) * 1000)
    out.write_text(json.dumps({"truth": rows.tolist(), "batch": batch, "single_ms": latencies}))


def child_search(folder: Path, count: int, configs: list[dict], out: Path) -> None:  # type: ignore[type-arg]
    """Time single queries through ``VectorIndex.search`` for each (nprobe, candidates)."""
    import resource

    from reviewer.embeddings.index import VectorIndex
    from reviewer.embeddings.sets import EmbeddingSet

    stored = EmbeddingSet(folder)
    q, _ = make_queries(folder, count)
    index = VectorIndex.open(stored)
    results = []
    for config in configs:
        if config.get("cold"):
            index = VectorIndex.open(stored)  # a fresh engine: the index file read again
            evict(set_files(folder))
        index.tune(nprobe=config.get("nprobe"), candidates=config.get("candidates"))
        if not config.get("cold"):
            index.search(q[:1], K)  # warm: open memory maps, load the index
        latencies, cpu_ms, found = [], [], []
        for v in q[: config.get("queries", count)]:
            started, cpu = time.perf_counter(), time.process_time()
            _, rows = index.search(v[None, :], K)
            latencies.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            found.append(rows[0].tolist())
        results.append({**config, "ms": latencies, "cpu_ms": cpu_ms, "found": found})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps({"results": results, "peak_mb": peak, "kind": index.kind}))


def run_child(args: list[str]) -> None:
    subprocess.run([sys.executable, __file__, *args], check=True)


# ---- one size -------------------------------------------------------------------------------


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def configs_for(kind: str, count: int) -> list[dict]:  # type: ignore[type-arg]
    """Search settings to compare: the defaults, narrower/wider, no re-ranking, cold."""
    if kind == "ivfpq":
        settings: list[dict] = [  # type: ignore[type-arg]
            {"label": "default"},
            {"label": "no re-rank", "candidates": 0},
            {"label": "nprobe 64", "nprobe": 64},
            {"label": "nprobe 128", "nprobe": 128},
            {"label": "nprobe 512", "nprobe": 512},
            {"label": "nprobe 1024", "nprobe": 1024},
            {"label": "cands 250", "candidates": 250},
            {"label": "cands 1000", "candidates": 1000},
        ]
    else:
        settings = [{"label": "default"}, {"label": "no re-rank", "candidates": 0}]
    return [*settings, {"label": "default, cold", "cold": True, "queries": min(count, 30)}]


def run_size(args: argparse.Namespace, size: int) -> None:
    base = Path(args.workdir) / f"n{size}"
    audit = base / "audit"
    folder = stored_set(audit, size) if args.reuse else None
    if folder is None:
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        subprocess.run([*REVIEWER, "init", str(audit)], check=True, capture_output=True)
        started = time.perf_counter()
        folder = generate(audit, size, args.clusters, args.spectrum)
        made = f"generated in {time.perf_counter() - started:.0f} s"
    else:
        made = "kept from an earlier run (--reuse)"
    print(
        f"\n== {size:,} vectors x {DIM}-d float16 ({size * DIM * 2 / 2**30:.1f} GiB),"
        f" {args.clusters} clusters, {args.spectrum} spread; {made}",
        flush=True,
    )
    print(f"uptime: {os.getloadavg()}")
    exact_out = base / f"exact-{args.queries}.json"
    if not exact_out.exists():
        run_child(
            [
                "--child-exact",
                str(folder),
                "--queries",
                str(args.queries),
                "--out",
                str(exact_out),
                "--singles",
                str(args.singles),
            ]
        )
    exact = json.loads(exact_out.read_text())
    truth = exact["truth"]
    _, noisy = make_queries(folder, args.queries)
    b = exact["batch"]
    print(
        f"exact (usearch float16, every part): ground truth for {args.queries} queries in"
        f" {b['wall_s']:.1f} s wall / {b['cpu_s']:.1f} s CPU;"
        f" single query p50 {np.percentile(exact['single_ms'], 50):.0f} ms"
        f" ({args.singles} timed)",
        flush=True,
    )
    for kind in args.kinds.split(","):
        built = build(args, base, audit, folder, kind, size)
        index_mb = sum(p.stat().st_size for p in (folder / "index").iterdir()) / 2**20
        info = json.loads((folder / "index" / "index.json").read_text())
        said = [line for line in built.output.splitlines() if "recall@" in line]
        print(
            f"{kind}: `reviewer index` {built.seconds:.0f} s wall, {built.cpu_seconds:.0f} s CPU,"
            f" peak RSS"
            f" {built.peak_mb:,.0f} MB, index {index_mb:,.0f} MB on disk,"
            f" params {info['params']}; it printed: {said[0] if said else '?'}",
            flush=True,
        )
        out = base / f"{kind}.json"
        run_child(
            [
                "--child-search",
                str(folder),
                "--queries",
                str(args.queries),
                "--out",
                str(out),
                "--configs",
                json.dumps(configs_for(kind, args.queries)),
            ]
        )
        data = json.loads(out.read_text())
        print(f"  search process peak RSS {data['peak_mb']:,.0f} MB; uptime {os.getloadavg()}")
        print(
            f"  {'setting':16} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'recall@100':>10}"
            f" {'like':>6} {'text':>6}"
        )
        for r in data["results"]:
            n = len(r["found"])
            t = truth[:n]
            like = [f for f, is_noisy in zip(r["found"], noisy[:n], strict=True) if not is_noisy]
            text = [f for f, is_noisy in zip(r["found"], noisy[:n], strict=True) if is_noisy]
            print(
                f"  {r['label']:16} {np.percentile(r['ms'], 50):8.1f}"
                f" {np.percentile(r['ms'], 95):8.1f} {np.percentile(r['cpu_ms'], 50):8.1f}"
                f" {recall(r['found'], t):10.3f}"
                f" {recall(like, [x for x, y in zip(t, noisy, strict=False) if not y]):6.3f}"
                f" {recall(text, [x for x, y in zip(t, noisy, strict=False) if y]):6.3f}"
            )
        if kind == "ivfpq":
            default = next(r for r in data["results"] if r["label"] == "default")
            codes = next(r for r in data["results"] if r["label"] == "no re-rank")
            rates = Rates.measure(folder, size, info, built, index_mb, default, codes)
            project(rates)
    print(CLIP_RETRIEVAL)
    print(TARGETS)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


def build(
    args: argparse.Namespace, base: Path, audit: Path, folder: Path, kind: str, size: int
) -> Measured:
    """``reviewer index`` as its own process; with ``--reuse``, an index an earlier run of
    this size built (its figures were saved beside it) instead."""
    record = base / f"build-{kind}.json"
    index = folder / "index" / "index.json"
    kept = args.reuse and record.exists() and index.exists()
    if kept and json.loads(index.read_text())["kind"] == kind:
        print(f"{kind}: index and its build figures kept from an earlier run (--reuse)")
        return Measured(**json.loads(record.read_text()))
    shutil.rmtree(folder / "index", ignore_errors=True)
    print(f"uptime before build: {os.getloadavg()}", flush=True)
    built = measure(
        [*REVIEWER, "index", str(audit), "--kind", kind, "--threads", str(args.threads)]
    )
    print(f"uptime after build: {os.getloadavg()}", flush=True)
    record.write_text(json.dumps(asdict(built)))
    return built


@dataclass
class Rates:
    """What one ivfpq build and its searches cost, split so each part scales by its own law."""

    size: int
    lists: int
    nprobe: int
    train_vectors: int
    train_s: float
    assign_s: float  # assigning every vector to its list (BLAS against the centroids)
    encode_s: float  # the rest of adding: residuals, PQ codes, shard files
    merge_s: float
    peak_mb: float
    bytes_per_vector: float  # on-disk lists, ids included
    scan_ms: float  # CPU p50 of a query without re-ranking (quantiser + list scan)
    rerank_ms: float  # what the exact re-ranking adds, CPU p50

    @classmethod
    def measure(
        cls,
        folder: Path,
        size: int,
        info: dict,  # type: ignore[type-arg]
        built: Measured,
        index_mb: float,
        default: dict,  # type: ignore[type-arg]
        codes: dict,  # type: ignore[type-arg]
    ) -> Rates:
        params = info["params"]
        lists = int(params["nlist"])
        assign = assign_seconds(folder) * size
        add = float(params.get("add_s", built.seconds))
        return cls(
            size,
            lists,
            int(params["nprobe"]),
            int(params["train_vectors"]),
            float(params.get("train_s", 0.0)),
            assign,
            max(0.0, add - assign),
            float(params.get("merge_s", 0.0)),
            built.peak_mb,
            (index_mb * 2**20 - lists * DIM * 4) / size,
            float(np.percentile(codes["cpu_ms"], 50)),
            float(np.percentile(default["cpu_ms"], 50) - np.percentile(codes["cpu_ms"], 50)),
        )


def assign_seconds(folder: Path, count: int = 65_536) -> float:
    """Seconds a vector to find its list: the built index's quantiser on ``count`` vectors."""
    import faiss

    from reviewer.embeddings.index import _training_sample
    from reviewer.embeddings.sets import EmbeddingSet

    index = faiss.read_index(str(folder / "index" / "ivfpq.faiss"), faiss.IO_FLAG_SKIP_IVF_DATA)
    quantizer = faiss.extract_index_ivf(index).quantizer
    x = _training_sample(EmbeddingSet(folder), count, seed=5)
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    quantizer.search(x, 1)
    return (time.perf_counter() - started) / len(x)


def project(r: Rates) -> None:
    """A projection (not a measurement) to LAION-400M and LAION-2B-en from one run's rates.

    Training scales with sample x lists (k-means), assigning with vectors x lists (one
    dot product per centroid), encoding and merging with vectors; a query scans
    nprobe x N / lists codes, and the re-ranking reads a fixed 500 vectors.
    """
    from reviewer.embeddings.index import NPROBE, SHARD_ROWS, ivf_lists, training_size

    print(
        f"  projection from this run (not measured; {r.size:,} vectors: training"
        f" {r.train_s:,.0f} s, assigning {r.assign_s:,.0f} s, encoding {r.encode_s:,.0f} s,"
        f" merging {r.merge_s:,.0f} s; {r.bytes_per_vector:.0f} B a vector on disk):"
    )
    for name, rows in DATASETS.items():
        lists = ivf_lists(rows)
        sample = training_size(rows, lists)
        nprobe = min(NPROBE, lists)
        hours = (
            r.train_s * sample * lists / (r.train_vectors * r.lists)
            + r.assign_s * rows * lists / (r.size * r.lists)
            + (r.encode_s + r.merge_s) * rows / r.size
        ) / 3600
        # Anonymous memory while building: the float32 training sample, the centroids, one
        # shard's codes and one float32 block of 262,144 vectors (file pages not counted).
        build_gb = (sample * DIM * 4 + lists * DIM * 4 + SHARD_ROWS * 72 + 2**18 * DIM * 4) / 2**30
        scanned = nprobe * rows / lists
        scan_ms = r.scan_ms * scanned / (r.nprobe * r.size / r.lists)
        print(
            f"    {name} ({rows / 1e6:,.0f}M): {lists:,} lists, {sample:,} training vectors"
            f" ({sample / lists:.0f} a list); index ~{r.bytes_per_vector * rows / 2**30:,.0f} GiB"
            f" on disk + float16 arrays {rows * DIM * 2 / 2**40:.2f} TiB (read by the"
            f" re-ranking); RAM to build ~{build_gb:.1f} GB + page cache, to serve"
            f" ~{lists * DIM * 4 / 2**20:,.0f} MiB of centroids + page cache; build"
            f" ~{hours:,.0f} h on 2 cores like these; a query scans {scanned / 1e6:.1f}M codes,"
            f" ~{scan_ms:,.0f} ms CPU + re-ranking ({r.rerank_ms:.0f} ms here, 500 random"
            f" reads from disk when the arrays are not cached)"
        )
    print(f"  {AUTOFAISS}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--kinds", default="ivfpq")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--singles", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=4096)
    parser.add_argument("--spectrum", choices=["powerlaw", "flat"], default="powerlaw")
    parser.add_argument("--workdir", default="/tmp/bench_probe")
    parser.add_argument("--keep", action="store_true", help="keep the audit (to re-run parts)")
    parser.add_argument(
        "--reuse", action="store_true", help="use a kept audit and ground truth of this size"
    )
    parser.add_argument("--child-exact", default=None)
    parser.add_argument("--child-search", default=None)
    parser.add_argument("--configs", default="[]")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.child_exact:
        child_exact(Path(args.child_exact), args.queries, args.singles, Path(args.out))
    elif args.child_search:
        child_search(
            Path(args.child_search), args.queries, json.loads(args.configs), Path(args.out)
        )
    else:
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(args, size)


if __name__ == "__main__":
    main()
