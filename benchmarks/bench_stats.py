"""Benchmark ``reviewer stats``: seconds and peak RSS on a large audit, against a pandas baseline.

Builds an audit with N samples (10M by default), flags on 10 % of them, and M labels
(1M by default) from 20 reviewers, then runs in separate processes (so each peak RSS
is its own):

* ours: :func:`reviewer.stats.audit_stats.compute_stats` (everything ``reviewer stats``
  prints: precision with intervals, weighted estimates, tag table, agreement, reviewers);
* baseline: the obvious notebook approach: load samples, flags and labels into pandas,
  merge, group by flag: precision with a Wilson interval only.

Usage: ``.venv/bin/python benchmarks/bench_stats.py [--quick] [--samples N] [--labels M]``.
Labels are bulk-inserted into the label store's SQLite file (not through
``LabelStore.record``, which commits one decision per call, as a keypress does).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FLAGS = ("keyword", "nsfw_field", "hate_hateful")
REVIEWERS = [f"r{i:02d}" for i in range(20)]


def build(root: Path, n_samples: int, n_labels: int) -> None:
    """Create the audit: samples in batches, a flags parquet, labels in SQLite."""
    from reviewer.audit import Audit

    audit = Audit.init(root)
    rng = np.random.default_rng(0)
    tags = np.array(["UNLIKELY", "UNSURE", "NSFW"])
    batch = 1_000_000
    with audit.store.connect(write=True) as conn:
        for start in range(0, n_samples, batch):
            ids = np.arange(start, min(n_samples, start + batch))
            table = pa.table({
                "sample_id": pa.array([f"s{i:09d}" for i in ids]),
                "text": pa.array([f"caption {i}" for i in ids]),
                "nsfw": pa.array(tags[rng.integers(0, 3, ids.size)]),
                "punsafe": pa.array(rng.random(ids.size)),
                "dataset": pa.array(["laion2b-en"] * ids.size),
            })
            audit.store.samples.insert(conn, table)
    flagged = rng.choice(n_samples, size=n_samples // 10, replace=False)
    flag_of = rng.integers(0, len(FLAGS), flagged.size)
    pq.write_table(pa.table({
        "sample_id": pa.array([f"s{i:09d}" for i in flagged]),
        "flagger": pa.array(np.array(FLAGS)[flag_of]),
        "flag": pa.array(np.array(FLAGS)[flag_of]),
        "score": pa.array(rng.random(flagged.size)),
        "flagged": pa.array(np.ones(flagged.size, dtype=bool)),
        "reason": pa.array(["bench"] * flagged.size),
        "run_id": pa.array(["bench"] * flagged.size),
    }), root / "bench_flags.parquet")
    # Labels: items mostly among flagged samples, each judged by 2 reviewers.
    items = rng.choice(flagged, size=n_labels // 2, replace=False)
    verdicts = np.array(["confirm", "reject", "unsure", "skip"])
    rows = []
    for k, item in enumerate(items):
        for j in range(2):
            reviewer = REVIEWERS[(k + j * 7) % 20]
            verdict = verdicts[rng.choice(4, p=[0.3, 0.6, 0.07, 0.03])]
            rows.append((f"s{item:09d}", reviewer, "nsfw", str(verdict),
                         "2026-01-01T00:00:00+00:00", float(rng.integers(2, 20))))
    audit.close()
    con = sqlite3.connect(root / "labels" / "labels.sqlite")
    con.executemany(
        "INSERT INTO events(sample_id, reviewer, category, verdict, created_at, seconds_on_item)"
        " VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT OR IGNORE INTO reviewers VALUES (?, ?)",
                    [(r, "2026-01-01") for r in REVIEWERS])
    con.commit()
    con.close()


def _use_bench_flags(root: Path) -> None:
    from reviewer.store.scores import FlagViews

    path = root / "bench_flags.parquet"

    def install(self, conn, settings):  # type: ignore[no-untyped-def]
        conn.execute(f"CREATE OR REPLACE TEMP VIEW flags AS SELECT * FROM read_parquet('{path}')")
        return []

    FlagViews.install = install  # type: ignore[method-assign]


def child(kind: str, root: Path) -> None:
    """Run one side and print {seconds, peak_rss_mb} as JSON."""
    import resource

    _use_bench_flags(root)
    started = time.perf_counter()
    if kind == "ours":
        from reviewer.audit import Audit
        from reviewer.stats.audit_stats import compute_stats

        stats = compute_stats(Audit.open(root))
        summary = {r["flag"]: r["precision"] for r in stats.precision}
    else:
        summary = baseline(root)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "precision": summary}))


def baseline(root: Path) -> dict[str, float]:
    """pandas: read everything, merge, group: precision per flag with Wilson intervals."""
    import duckdb
    import pandas as pd
    from statsmodels.stats.proportion import proportion_confint

    con = duckdb.connect(str(root / "audit.duckdb"), read_only=True)
    samples = con.sql("SELECT * FROM samples").df()
    con.close()
    flags = pd.read_parquet(root / "bench_flags.parquet")
    labels = pd.read_sql("SELECT * FROM events", sqlite3.connect(root / "labels" / "labels.sqlite"))
    merged = samples.merge(flags, on="sample_id").merge(labels, on="sample_id")
    binary = merged[merged["verdict"].isin(["confirm", "reject"])]
    out = {}
    for flag, group in binary.groupby("flag"):
        k, n = int((group["verdict"] == "confirm").sum()), len(group)
        proportion_confint(k, n, method="wilson")
        out[str(flag)] = k / n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k samples, 20k labels")
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["ours", "baseline"])
    parser.add_argument("--root", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root)
        return
    n_samples, n_labels = (200_000, 20_000) if args.quick else (args.samples, args.labels)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "audit"
        started = time.perf_counter()
        build(root, n_samples, n_labels)
        print(f"built audit: {n_samples:,} samples, {n_labels:,} labels, 20 reviewers"
              f" in {time.perf_counter() - started:.1f} s")
        results = {}
        for kind in ("ours", "baseline"):
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--root", str(root)],
                                 capture_output=True, text=True, check=True)
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[kind]
            print(f"{kind:<9} {r['seconds']:8.1f} s   peak RSS {r['peak_rss_mb']:8.0f} MB")
        ours, base = results["ours"], results["baseline"]
        print(f"ratio ours/baseline: time {ours['seconds'] / base['seconds']:.2f}×,"
              f" peak RSS {ours['peak_rss_mb'] / base['peak_rss_mb']:.2f}×")
        print("(baseline computes precision only; ours computes every statistic)")


if __name__ == "__main__":
    main()
