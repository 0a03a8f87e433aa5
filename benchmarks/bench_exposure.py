"""See less to decide more: reveals with and without groups and lists; hashing and matching rates.

1. A simulated review of a flagged sample where some items are near-duplicates (resized
   and recompressed copies) and 1% are on a known-content list, in two scenarios: the
   issue's (20% of the items are copies, each of a different original: pairs) and a
   LAION-like one (half the items are copies — SemDeDup removed 50% of LAION-440M as
   semantic duplicates — in re-post clusters of very unequal size, Zipf-distributed).
   The same simulated reviewer (reveals every item it sees to full colour, then decides
   by the item's true label) works through the queue twice, on two copies of the audit:
   without groups and lists (baseline), and after ``reviewer match`` and ``reviewer
   groups``, where the queue shows one representative per group and the reviewer
   decides it with ``g``. Counts reveals, decisions, renders of listed items, checks the
   final labels agree on every item both judged, and prints the ceiling beside the
   measured saving: every decision needs its reveals, so reveals can fall at most by
   the share of items that are not the first of their picture or are listed.
2. Hashing throughput (images/s), decode vs hash time, beside the PDQ reference figure
   (about 550 hashes/s in C++, decoding the bottleneck).
3. List matching: exact entries (DuckDB hash join) and PDQ entries (exact multi-index
   Hamming search, :mod:`reviewer.hamming`), entries x samples per second, beside faiss
   brute force measured on a slice; PDQ grouping (the same search as a self-join).

    .venv/bin/python benchmarks/bench_exposure.py [--quick] [--items N] [--part matching]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewer.audit import Audit  # noqa: E402
from reviewer.flaggers.runner import run_flagger  # noqa: E402
from reviewer.grouping import build_groups  # noqa: E402
from reviewer.matching import match_list  # noqa: E402
from reviewer.review.groups import Groups, load_groups  # noqa: E402
from reviewer.review.queue import Queue  # noqa: E402
from reviewer.review.session import ReviewSession  # noqa: E402

PDQ_REFERENCE = 550.0
"""Hashes per second of Meta's C++ PDQ hasher (their published figure; decoding bound)."""


def picture(seed: int, grid: tuple[int, int] = (6, 8)) -> Image.Image:
    """Random colours on a ``grid`` upscaled to 320x240. The review simulation uses a finer
    grid (12x16): on the smoothest pictures PDQ puts resized copies up to ~50 bits apart,
    which no photo-like picture does (12x16: at most 26 bits here, unrelated >= 114)."""
    rng = np.random.default_rng(seed)
    small = (rng.random((*grid, 3)) * 255).astype(np.uint8)
    return Image.fromarray(small).resize((320, 240), Image.Resampling.BICUBIC)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


SCENARIOS = {
    "issue": (0.2, "pairs"),
    "laion-like": (0.5, "zipf"),
}
"""Name -> (share of items that are copies of another item, how copies pick originals)."""
COPY_VARIANTS = ((288, 216, 80), (256, 192, 70), (240, 180, 85), (300, 225, 60))
"""Re-posts: resized to (width, height) and re-compressed at JPEG quality."""
REVIEW_GRID = (12, 16)


def sources(n: int, copy_share: float, shape: str) -> list[int]:
    """Which original picture each of the ``n`` items shows: the first ``n - copies`` are
    the originals themselves; the copies pick one each, a different one per copy
    (``pairs``) or by a Zipf law (``zipf``: a few pictures re-posted many times)."""
    copies = round(n * copy_share)
    originals = n - copies
    if shape == "pairs":
        picked = [i % originals for i in range(copies)]
    else:
        weights = 1.0 / np.arange(1, originals + 1)
        rng = np.random.default_rng(7)
        picked = [int(x) for x in rng.choice(originals, copies, p=weights / weights.sum())]
    return list(range(originals)) + picked


def build(root: Path, n: int, scenario: str) -> tuple[Audit, dict[str, int], bytes, list[int]]:
    """An audit of ``n`` flagged items of a scenario, 1% of them listed; true labels; which
    picture each item shows."""
    folder = root.parent / "images"
    folder.mkdir(parents=True, exist_ok=True)
    source_of = sources(n, *SCENARIOS[scenario])
    originals = sum(1 for i, src in enumerate(source_of) if i == src)
    truth: dict[str, int] = {}
    rows = []
    for i, source in enumerate(source_of):
        image = picture(source, REVIEW_GRID)
        if i < originals:
            data = jpeg(image)
        else:
            width, height, quality = COPY_VARIANTS[i % len(COPY_VARIANTS)]
            data = jpeg(image.resize((width, height)), quality)
        (folder / f"{i}.jpg").write_bytes(data)
        truth[f"s{i:06d}"] = source % 2
        rows.append({"sample_id": f"s{i:06d}", "url": f"https://x.invalid/{i}.jpg",
                     "text": f"caption {i}", "nsfw": "NSFW", "dataset": "bench"})
    audit = Audit.init(root)
    with audit.store.ingest.transaction() as conn:
        root_id = audit.store.ingest.image_root_id(conn, str(folder), "dir")
    for row in rows:
        row["image_ref"] = f"{root_id}:{row['sample_id'][1:].lstrip('0') or '0'}.jpg"
    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, pa.Table.from_pylist(rows))
    # 1% of the items listed (by MD5: their exact bytes), originals spread over the ranks.
    picked = np.linspace(0, originals - 1, max(1, n // 100)).round().astype(int)
    listed = b"".join(
        f"md5:{hashlib.md5((folder / f'{i}.jpg').read_bytes()).hexdigest()}\n".encode()
        for i in sorted(set(picked.tolist()))
    )
    return audit, truth, listed, source_of


def simulate(audit: Audit, truth: dict[str, int], groups: Groups) -> dict[str, int]:
    """Review the queue: reveal to full colour, decide by truth; on a representative (an
    item whose group members are held back behind it) decide the group with ``g``."""
    ids = sorted(set(truth) - audit.labels.quarantined_ids())
    wellbeing = audit.settings.wellbeing  # a simulation: count every reveal, no day's end
    wellbeing.daily_reveal_cap = 0
    wellbeing.daily_full_colour_seconds_cap = 0
    session = ReviewSession(audit.labels, "sim", Queue("flagged", ids, list(range(len(ids)))),
                            audit.settings, groups=groups)
    session.start()
    listed = {sid for sid in truth if sid not in ids}
    rendered_listed = decisions = 0
    while session.current_id is not None:
        sid = session.current_id
        rendered_listed += sid in listed
        while session.reveal() is None:
            pass
        verdict = "confirm" if truth[sid] else "reject"
        if session.folded_behind:
            session.decide_group(verdict)
        else:
            session.decide(verdict)
        decisions += 1
    summary = session.end()
    return {"reveals": summary.exposure.reveals, "decisions": decisions,
            "propagated": summary.propagated, "rendered_listed": rendered_listed}


def labels_of(audit: Audit) -> dict[str, str]:
    events = audit.labels.events().to_pylist()
    return {e["sample_id"]: e["verdict"] for e in events if e["verdict"] != "undo"}


def ceiling(source_of: list[int], listed_items: int) -> float:
    """The largest possible cut in reveals when every decision needs its reveals: the share
    of items that are a later copy of a picture already in the queue, or listed."""
    n = len(source_of)
    return (n - len(set(source_of)) + listed_items) / n


def cluster_line(source_of: list[int]) -> str:
    """How the copies cluster: groups of two or more, their mean and largest size."""
    sizes = np.bincount(source_of)
    grouped = sizes[sizes > 1]
    if not len(grouped):
        return "no copies"
    return (f"{len(grouped):,} pictures with copies, cluster size mean {grouped.mean():.1f}, "
            f"largest {grouped.max()}")


def review_comparison(n: int, scenario: str, tmp: Path) -> None:
    base, truth, _, source_of = build(tmp / scenario / "a" / "audit", n, scenario)
    run_flagger(base, "image_hash")
    started = time.perf_counter()
    baseline = simulate(base, truth, Groups())
    ours_audit, _, listed, _ = build(tmp / scenario / "b" / "audit", n, scenario)
    run_flagger(ours_audit, "image_hash")
    (tmp / "list.txt").write_bytes(listed)
    match_list(ours_audit, str(tmp / "list.txt"), "bench")
    build_groups(ours_audit, "pdq")
    ours = simulate(ours_audit, truth, load_groups(ours_audit))
    a, b = labels_of(base), labels_of(ours_audit)
    same = sum(a[s] == b[s] for s in b)
    quarantined = len(ours_audit.labels.quarantined_ids())
    grouped = ours_audit.store.groups.members("pdq").num_rows
    copy_share, _ = SCENARIOS[scenario]
    print(f"review of {n} flagged items, scenario {scenario}: {copy_share:.0%} are copies of "
          f"another item ({cluster_line(source_of)}), {quarantined / n:.0%} listed; "
          f"{time.perf_counter() - started:.1f} s")
    print(f"  baseline   : {baseline['reveals']:,} reveals, {baseline['decisions']:,} decisions")
    print(f"  groups+list: {ours['reveals']:,} reveals, {ours['decisions']:,} decisions, "
          f"{ours['propagated']:,} propagated, {quarantined} listed quarantined, "
          f"renders of listed items {ours['rendered_listed']}; {grouped} items in PDQ groups")
    cut = 1 - ours["reveals"] / baseline["reveals"]
    top = ceiling(source_of, quarantined)
    print(f"  reveals cut by {cut:.1%}; ceiling {top:.1%} (copies {copy_share:.0%} + listed "
          f"{quarantined / n:.0%}: every decision needs its reveals); issue target >= 30%; "
          f"labels equal on {same}/{len(b)} items")
    base.close()
    ours_audit.close()


def hashing_rate(n: int, tmp: Path) -> None:
    """The flagger's own per-image path (decode with the bomb checks, PDQ, MD5/SHA-1/SHA-256)
    timed step by step on one core, at a LAION-thumbnail size and a camera size; then the
    whole flagger (file reads, batches, parquet writes) on an audit of ``n`` images."""
    import pdqhash

    from reviewer.images.decode import decode_image

    for size, count in (((320, 240), n), ((1600, 1200), max(10, n // 10))):
        data = [jpeg(picture(i).resize(size, Image.Resampling.BICUBIC)) for i in range(count)]
        decode = pdq = digests = 0.0
        for d in data:
            started = time.perf_counter()
            rgb = np.asarray(decode_image(d, 10**8))
            decoded = time.perf_counter()
            pdqhash.compute(rgb)
            hashed = time.perf_counter()
            for name in ("md5", "sha1", "sha256"):
                hashlib.new(name, d).hexdigest()
            digests += time.perf_counter() - hashed
            decode += decoded - started
            pdq += hashed - decoded
        total = decode + pdq + digests
        print(f"hashing {count} JPEGs of {size[0]}x{size[1]} (one core): "
              f"{count / total:,.0f} images/s; decode {decode / total:.0%}, "
              f"PDQ {pdq / total:.0%}, MD5+SHA-1+SHA-256 {digests / total:.0%} of the time"
              f"  [load {load()}]")
    audit, _, _ = build(tmp / "hash" / "audit", n)
    started = time.perf_counter()
    run_flagger(audit, "image_hash")
    took = time.perf_counter() - started
    audit.close()
    print(f"  whole flagger (flag --flagger image-hash) on {n} 320x240 files: {n / took:,.0f} "
          f"images/s. PDQ reference: ~{PDQ_REFERENCE:.0f} hashes/s (Meta's C++, decoding bound)")


def planted_codes(samples: int, entries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Random 256-bit codes (PDQ hashes of unrelated images are near-uniform) with 1% of
    the samples planted as near copies: sample k is entry k with k % 32 bits flipped (all
    must match), and 0.1% more at exactly 32 bits (none may). Returns the count within 31."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (samples, 32), dtype=np.uint8)
    bank = rng.integers(0, 256, (entries, 32), dtype=np.uint8)
    near = samples // 100
    for k in range(near + samples // 1000):
        code = bank[k].copy()
        for bit in rng.choice(256, k % 32 if k < near else 32, replace=False):
            code[bit // 8] ^= np.uint8(1 << (7 - bit % 8))
        codes[k] = code
    return codes, bank, near


def exact_rate(samples: int, entries: int) -> None:
    import duckdb

    rng = np.random.default_rng(0)
    hashes = pa.array([f"{x:032x}" for x in rng.integers(0, 2**62, samples)])
    listed = pa.array([f"{x:032x}" for x in rng.integers(0, 2**62, entries)])
    started = time.perf_counter()
    with duckdb.connect() as conn:
        conn.register("h", pa.table({"md5": hashes}))
        conn.register("e", pa.table({"v": listed}))
        conn.execute("SELECT count(*) FROM h JOIN e ON h.md5 = e.v").fetchall()
    exact = time.perf_counter() - started
    print(f"exact list match: {samples:,} samples x {entries:,} entries in {exact:.2f} s "
          f"({samples * entries / exact:.2e} entries x samples/s)")


def pdq_rate(size: int, brute: bool) -> None:
    """PDQ list matching and PDQ grouping (self-join) at ``size`` x ``size``, distance 31."""
    from reviewer.hamming import flat_index, near_pairs, plan

    codes, bank, near = planted_codes(size, size)
    chunks = plan(256, 31, size, size)
    how = "brute force" if chunks is None else f"multi-index, {len(chunks)} chunks"
    started = time.perf_counter()
    matched, _ = near_pairs(codes, bank, 31)
    took = time.perf_counter() - started
    found = len(np.unique(matched))
    print(f"PDQ list match, distance 31 ({how}): {size:,} samples x {size:,} entries in "
          f"{took:.1f} s ({size * size / took:.2e} entries x samples/s); {found:,} samples "
          f"matched, {near:,} planted within 31 (ok: {found == near})  [load {load()}]")
    if brute:
        sub = min(size, max(2_000, size // 100))
        started = time.perf_counter()
        flat_index(bank).range_search(codes[:sub], 32)
        rate = sub * size / (time.perf_counter() - started)
        whole = size * size / rate
        print(f"  brute force (faiss IndexBinaryFlat) on {sub:,} x {size:,}: {rate:.2e} pairs/s,"
              f" so {whole:.0f} s for the whole; multi-index {whole / took:.0f}x faster")
    half = size // 2  # the planted samples and their entries are all in the first halves
    both = np.concatenate([codes[:half], bank[:half]])
    started = time.perf_counter()
    pairs, _ = near_pairs(both, None, 31)
    took = time.perf_counter() - started
    print(f"PDQ grouping (self-join, distance 31): {len(both):,} hashes in {took:.1f} s, "
          f"{len(pairs):,} pairs within 31, {near:,} planted (ok: {len(pairs) == near})"
          f"  [load {load()}]")


def match_end_to_end(size: int, tmp: Path) -> None:
    """``reviewer match`` itself: the newest image-hash run read through DuckDB, the PDQ
    search, one transaction quarantining the matches; ``size`` samples against a list of
    ``size`` PDQ entries (the hash run is written directly: hashing a million pictures is
    measured above per image, not here)."""
    from reviewer.store.runs import COMPLETE, RunDir

    codes, bank, near = planted_codes(size, size, seed=1)
    audit = Audit.init(tmp / "e2e" / "audit")
    ids = pa.array([f"s{i:07d}" for i in range(size)])
    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, pa.table({"sample_id": ids, "dataset": ["bench"] * size}))
    run = RunDir.create(audit.paths.scores, {"flagger": "image_hash", "version": "bench"}, size)
    hexes = as_hex(codes)
    none = pa.nulls(size, pa.string())
    run.write_part(0, pa.table({"sample_id": ids, "md5": none, "sha1": none, "sha256": none,
                                "pdq": pa.array(hexes), "pdq_quality": [100] * size}))
    run.mark(COMPLETE)
    listed = tmp / "e2e" / "bank.txt"
    listed.write_text("".join(f"pdq:{h}\n" for h in as_hex(bank)))
    started = time.perf_counter()
    result = match_list(audit, str(listed), "bench")
    took = time.perf_counter() - started
    audit.close()
    print(f"reviewer match end to end: {size:,} samples x {size:,} PDQ entries in {took:.1f} s, "
          f"{result.quarantined:,} quarantined, {near:,} planted (ok: "
          f"{result.quarantined == near})  [load {load()}]")


def clip_grouping_rate(size: int, tmp: Path) -> None:
    """``reviewer groups --by clip`` on ``size`` stored 512-d unit embeddings (exact search,
    no index): 1% planted near copies at cosine 0.97, which must all be grouped."""
    from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((size, 512)).astype(np.float32)
    near = size // 100
    noise = rng.standard_normal((near, 512)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[near : 2 * near] = unit[:near] + 0.25 * noise  # cosine ~0.97 to its original
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    audit = Audit.init(tmp / "clip" / "audit")
    model = ModelId("ViT-B-32", "openai")
    ids = pa.array([f"s{i:07d}" for i in range(size)])
    EmbeddingsFolder(audit.paths.embeddings).get(model).add_part(
        model, "image", "bench", ids, vectors=vectors
    )
    started = time.perf_counter()
    result = build_groups(audit, "clip")
    took = time.perf_counter() - started
    audit.close()
    print(f"clip grouping (exact search, cosine 0.94): {size:,} vectors in {took:.1f} s "
          f"({size / took:,.0f} vectors/s), {result.groups:,} groups, {near:,} planted "
          f"(ok: {result.groups == near == result.members // 2})  [load {load()}]")


def as_hex(codes: np.ndarray) -> np.ndarray:
    """``(n, 32)`` uint8 codes -> their 64-hex-digit PDQ strings."""
    return np.frombuffer(codes.tobytes().hex().encode(), dtype="S64").astype(str)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--part", choices=["all", "review", "hashing", "matching"],
                        default="all", help="Run one section only.")
    args = parser.parse_args()
    items = args.items or (200 if args.quick else 1000)
    if args.part in ("all", "review"):
        with tempfile.TemporaryDirectory() as tmp:
            for scenario in SCENARIOS:
                review_comparison(items, scenario, Path(tmp))
    if args.part in ("all", "hashing"):
        with tempfile.TemporaryDirectory() as tmp:
            hashing_rate(50 if args.quick else 300, Path(tmp))
    if args.part in ("all", "matching"):
        exact_rate(100_000 if args.quick else 1_000_000, 100_000 if args.quick else 1_000_000)
        for size in (10_000,) if args.quick else (100_000, 1_000_000):
            pdq_rate(size, brute=True)
        with tempfile.TemporaryDirectory() as tmp:
            match_end_to_end(10_000 if args.quick else 1_000_000, Path(tmp))
            clip_grouping_rate(5_000 if args.quick else 20_000, Path(tmp))


if __name__ == "__main__":
    main()
