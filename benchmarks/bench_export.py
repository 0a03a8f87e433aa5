"""Benchmark ``reviewer export``: rows/s and peak RSS at two sizes, against a pandas baseline.

Builds synthetic audits (full: 1M and 10M samples; ``--quick``: 50k and 250k)
with keyword and NSFW-field flag runs and a few thousand labels (some
escalated), then, each in a fresh process so peak RSS is its own:

- ``export``: ``reviewer.export.export`` of every sample with flags and consensus
  labels to parquet (DuckDB ``COPY`` streaming);
- ``pandas``: the notebook way: samples, flags and labels into pandas, pivot,
  merge, ``to_parquet``.

Prints rows/s, peak RSS and the ratios. Peak RSS of the export should stay
about flat from the small to the large audit; the baseline's grows with rows.

Usage: ``.venv/bin/python benchmarks/bench_export.py [--quick] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

BATCH = 1_000_000
N_LABELS = 3_000


def build_audit(root: Path, n: int, n_labels: int = N_LABELS) -> None:
    """A synthetic audit of ``n`` samples with two flag runs and labels."""
    from reviewer.audit import Audit
    from reviewer.flaggers.runner import run_flagger
    from reviewer.store import Decision

    audit = Audit.init(root)
    tags = pa.array(["UNLIKELY", "UNSURE", "NSFW"])
    for start in range(0, n, BATCH):
        idx = pa.array(np.arange(start, min(n, start + BATCH)))
        text_idx = pc.cast(idx, pa.string())
        forbidden = pc.if_else(pc.equal(pc.bit_wise_and(idx, 63), 0), " forbidden", "")
        batch = pa.table(
            {
                "sample_id": pc.binary_join_element_wise("s", pc.utf8_lpad(text_idx, 9, "0"), ""),
                "url": pc.binary_join_element_wise(
                    "https://example.org/img/", text_idx, ".jpg", ""
                ),
                "text": pc.binary_join_element_wise("a photo of item ", text_idx, forbidden, ""),
                "nsfw": pc.take(tags, pa.array(idx.to_numpy() % 3)),
                # Skewed low like LAION's punsafe: a few percent at or above 0.5.
                "punsafe": pa.array(np.random.default_rng(start).beta(0.5, 8, len(idx))),
                "similarity": pa.array(np.full(len(idx), 0.3)),
                "width": pa.array(np.full(len(idx), 256)),
                "height": pa.array(np.full(len(idx), 256)),
                "dataset": pa.array(["laion400m"] * len(idx)),
                "source_file": pa.array(["part-00000.parquet"] * len(idx)),
                "source_row": idx,
            }
        )
        with audit.store.connect(write=True) as conn:
            audit.store.samples.insert(conn, batch)
    run_flagger(audit, "keyword", terms=["forbidden"])
    run_flagger(audit, "nsfw-field")
    rng = np.random.default_rng(0)
    for k, i in enumerate(rng.choice(n, size=min(n_labels, n), replace=False)):
        verdict = "escalate" if k % 500 == 0 else ("confirm", "reject", "unsure", "skip")[k % 4]
        for reviewer in ("ana", "bob") if k % 3 else ("ana",):
            audit.labels.record(Decision(f"s{int(i):09d}", reviewer, "nsfw", verdict))
    audit.close()


def _peak_rss_sampler(stop: threading.Event, peak: list[int]) -> None:
    proc = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        stop.wait(0.02)


def child(kind: str, audit_dir: Path, out: Path) -> None:
    """Run one measurement in this (fresh) process and print JSON."""
    from reviewer.audit import Audit

    audit = Audit.open(audit_dir)
    if os.environ.get("BENCH_PASS_ROWS"):
        audit.store.exports.pass_rows = int(os.environ["BENCH_PASS_ROWS"])
    stop, peak = threading.Event(), [psutil.Process().memory_info().rss]
    sampler = threading.Thread(target=_peak_rss_sampler, args=(stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    rows = export_streaming(audit, out) if kind == "export" else export_pandas(audit, out)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss": peak[0]}))


def export_streaming(audit: object, out: Path) -> int:
    from reviewer.export import ExportOptions, export

    return export(audit, ExportOptions(out=out, force=True)).rows  # type: ignore[arg-type]


def export_pandas(audit: object, out: Path) -> int:
    """Baseline: everything into pandas, pivot flags, consensus by groupby, to_parquet."""
    store = audit.store  # type: ignore[attr-defined]
    samples = store.query("SELECT * FROM samples").to_pandas()
    flags = store.flags.table(audit.settings).to_pandas()  # type: ignore[attr-defined]
    wide = flags.pivot_table(
        index="sample_id", columns="flag", values=["flagged", "score"], aggfunc="max"
    )
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    labels = audit.labels.current_labels().to_pandas()  # type: ignore[attr-defined]
    escalated = set(labels.loc[labels.verdict == "escalate", "sample_id"])
    votes = labels[labels.verdict != "escalate"].groupby(["sample_id", "category"])["verdict"]
    consensus = votes.agg(lambda v: v.mode().iloc[0] if len(v.mode()) == 1 else "unsure")
    cons = consensus.unstack("category").add_suffix("_verdict")
    df = samples[~samples.sample_id.isin(escalated)]
    df = df.merge(wide, left_on="sample_id", right_index=True, how="left")
    df = df.merge(cons, left_on="sample_id", right_index=True, how="left")
    df.to_parquet(out)
    return len(df)


def measure(kind: str, audit_dir: Path, out: Path) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(audit_dir), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50k and 250k samples (< 60 s)")
    parser.add_argument("--sizes", type=int, nargs="+", help="audit sizes to run")
    parser.add_argument(
        "--no-baseline-above",
        type=int,
        default=2_000_000,
        help="skip the pandas baseline above this many rows (RAM)",
    )
    parser.add_argument("--keep", type=Path, help="keep the audits in this folder")
    parser.add_argument("--pass-rows", type=int, help="samples per pass of the export")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Quick mode scales the pass size down with the audits, to show the mechanism.
    pass_rows = args.pass_rows or (50_000 if args.quick else None)
    if pass_rows:
        os.environ["BENCH_PASS_ROWS"] = str(pass_rows)
    print(f"samples per export pass: {pass_rows or 'default (2,000,000)'}")
    sizes = args.sizes or ([50_000, 250_000] if args.quick else [1_000_000, 10_000_000])
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_export_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'rows':>11} {'method':>8} {'seconds':>8} {'rows/s':>11} {'peak RSS':>9}")
    results: dict[tuple[int, str], dict[str, float]] = {}
    try:
        for n in sizes:
            audit_dir = work / f"audit-{n}"
            if not (audit_dir / "audit.duckdb").exists():
                t0 = time.perf_counter()
                build_audit(audit_dir, n, 1_000 if args.quick else N_LABELS)
                print(f"  (built {n:,}-sample audit in {time.perf_counter() - t0:.1f} s)")
            kinds = ["export"] + (["pandas"] if n <= args.no_baseline_above else [])
            for kind in kinds:
                r = measure(kind, audit_dir, work / f"out-{n}-{kind}.parquet")
                results[(n, kind)] = r
                print(
                    f"{int(r['rows']):>11,} {kind:>8} {r['seconds']:>8.2f}"
                    f" {r['rows'] / r['seconds']:>11,.0f} {r['peak_rss'] / 2**20:>7,.0f} MB"
                )
        for n in sizes:
            if (n, "pandas") in results:
                e, p = results[(n, "export")], results[(n, "pandas")]
                print(
                    f"{n:>11,} export vs pandas: {p['seconds'] / e['seconds']:.1f}x faster,"
                    f" {p['peak_rss'] / e['peak_rss']:.1f}x less peak RSS"
                )
        small, large = sizes[0], sizes[-1]
        for kind in ("export", "pandas"):
            if (small, kind) in results and (large, kind) in results:
                growth = results[(large, kind)]["peak_rss"] / results[(small, kind)]["peak_rss"]
                print(f"{kind}: peak RSS x{growth:.2f} for x{large / small:.0f} rows")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
