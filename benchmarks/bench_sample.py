"""Benchmark ``reviewer sample``: drawing a stratified plan in DuckDB against pandas.

Builds an audit with N samples (10M by default, flags on 10 %), then draws a plan
stratified by flag set × NSFW tag with 400 items per stratum, a 2,000-item control
sample and 20 reviewers with 2-fold overlap. Each side runs in its own process:

* ours: :func:`reviewer.sampling.draw_plan` (one DuckDB pass: ``min_by(id, hash, n)``
  per stratum; strata, items and assignments stored);
* baseline: the notebook way: load samples and flags into pandas, build the stratum
  column, ``groupby(stratum).sample(n, random_state=seed)``.

Usage: ``.venv/bin/python benchmarks/bench_sample.py [--quick] [--samples N]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_stats


def child(kind: str, root: Path) -> None:
    """Run one side and print {seconds, peak_rss_mb, items} as JSON."""
    import resource

    bench_stats._use_bench_flags(root)
    started = time.perf_counter()
    items = ours(root) if kind == "ours" else baseline(root)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "items": items}))


def ours(root: Path) -> int:
    from reviewer.audit import Audit
    from reviewer.sampling import SampleSpec, draw_plan

    spec = SampleSpec("bench", strata=("flag", "nsfw"), per_stratum=400, control=2000, seed=1,
                      reviewers=tuple(bench_stats.REVIEWERS), overlap=2)
    return draw_plan(Audit.open(root), spec).items


def baseline(root: Path) -> int:
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(root / "audit.duckdb"), read_only=True)
    samples = con.sql("SELECT sample_id, nsfw FROM samples").df()
    con.close()
    flags = pd.read_parquet(root / "bench_flags.parquet")
    sets = flags.groupby("sample_id")["flag"].agg(lambda f: "+".join(sorted(set(f))))
    frame = samples.merge(sets.rename("flagset"), on="sample_id", how="left")
    flagged = frame["flagset"].notna()
    frame["stratum"] = frame["flagset"].fillna("") + " | nsfw=" + frame["nsfw"].astype(str)
    strata = frame[flagged].groupby("stratum", group_keys=False).apply(
        lambda g: g.sample(min(len(g), 400), random_state=1))
    control = frame[~flagged].sample(2000, random_state=1)
    return len(strata) + len(control)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500k samples")
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--child", choices=["ours", "baseline"])
    parser.add_argument("--root", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root)
        return
    n_samples = 500_000 if args.quick else args.samples
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "audit"
        started = time.perf_counter()
        bench_stats.build(root, n_samples, 2)
        print(f"built audit: {n_samples:,} samples in {time.perf_counter() - started:.1f} s")
        results = {}
        for kind in ("ours", "baseline"):
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--root", str(root)],
                                 capture_output=True, text=True, check=True)
            results[kind] = r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{kind:<9} {r['seconds']:8.2f} s   peak RSS {r['peak_rss_mb']:8.0f} MB"
                  f"   {r['items']:,} items")
        ours_r, base = results["ours"], results["baseline"]
        print(f"ratio ours/baseline: time {ours_r['seconds'] / base['seconds']:.2f}×,"
              f" peak RSS {ours_r['peak_rss_mb'] / base['peak_rss_mb']:.2f}×")


if __name__ == "__main__":
    main()
