"""Ingest throughput and memory: `reviewer` streaming ingest vs a load-everything baseline.

    .venv/bin/python benchmarks/bench_ingest.py            # 2M and 10M rows
    .venv/bin/python benchmarks/bench_ingest.py --quick    # 300k and 1.5M rows (< 60 s)

For two file sizes it generates a synthetic LAION-400M-shaped parquet (SAMPLE_ID,
URL, TEXT, HEIGHT, WIDTH, LICENSE, NSFW, similarity; realistic string lengths),
then, each in a fresh process so peak RSS is clean:

- ingest:   ``reviewer.ingest.ingest`` (streaming, one transaction, duplicate checks)
- baseline: ``pandas.read_parquet`` of the whole file + one DuckDB INSERT of the frame
- open:     ``Audit.open`` + ``store.samples.summary()`` on the ingested audit

and prints rows/s, peak RSS (psutil, sampled every 20 ms in a thread) and ratios.
Streaming ingest should keep peak RSS flat as the file grows; the baseline's grows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

VOCABULARY = (
    "the a of photo vintage red blue dress garden house street view portrait cat dog art poster "
    "wall print design modern classic wooden table chair kitchen summer winter beach mountain "
    "city night logo shirt women men kids set of 2 3 4 large small new sale free shipping "
    "canvas painting watercolor illustration vector icon pattern background white black"
)
WORDS = np.array(VOCABULARY.split(" "))
CHUNK = 250_000


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write a LAION-400M-shaped parquet of ``rows`` rows in bounded memory."""
    rng = np.random.default_rng(seed)
    schema = None
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        words = [pa.array(WORDS[rng.integers(0, len(WORDS), n)]) for _ in range(8)]
        text = pc.binary_join_element_wise(*words, " ")
        ids = np.arange(start, start + n, dtype=np.int64)
        number = pc.cast(pa.array(ids * 7919), pa.string())
        url = pc.binary_join_element_wise("https://cdn.example.com/images/", number, ".jpg", "")
        table = pa.table(
            {
                "SAMPLE_ID": ids,
                "URL": url,
                "TEXT": text,
                "HEIGHT": rng.integers(200, 1200, n).astype(np.float64),
                "WIDTH": rng.integers(200, 1200, n).astype(np.float64),
                "LICENSE": pa.array(["?"] * n),
                "NSFW": pa.array(np.array(["UNLIKELY", "UNSURE", "NSFW"])[rng.integers(0, 3, n)]),
                "similarity": rng.uniform(0.28, 0.45, n),
            }
        )
        if writer is None:
            schema = table.schema
            writer = pq.ParquetWriter(path, schema, compression="snappy")
        writer.write_table(table, row_group_size=100_000)
    assert writer is not None
    writer.close()


CHILD = r"""
import json, sys, threading, time, os
import psutil
proc = psutil.Process()
peak = 0
stop = threading.Event()
def sample():
    global peak
    while not stop.is_set():
        peak = max(peak, proc.memory_info().rss)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
mode, data, audit_dir = sys.argv[1], sys.argv[2], sys.argv[3]
from pathlib import Path
import duckdb, pandas as pd
from reviewer.audit import Audit
from reviewer.ingest import ingest
if mode == "ingest":
    audit = Audit.init(Path(audit_dir))
started = time.perf_counter()
if mode == "ingest":
    report = ingest(audit.store, [data])
    rows = report.inserted
elif mode == "baseline":
    frame = pd.read_parquet(data)
    con = duckdb.connect(audit_dir + ".baseline.duckdb")
    con.execute("CREATE TABLE samples AS SELECT * FROM frame")
    rows = con.execute("SELECT count(*) FROM samples").fetchone()[0]
    con.close()
else:
    audit = Audit.open(audit_dir)
    summary = audit.store.samples.summary()
    rows = summary.samples
elapsed = time.perf_counter() - started
stop.set()
peak = max(peak, proc.memory_info().rss)
print(json.dumps({"rows": rows, "seconds": elapsed, "peak_rss": peak}))
"""


def run_child(mode: str, data: Path, audit_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(data), str(audit_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    args = parser.parse_args()
    sizes = [300_000, 1_500_000] if args.quick else [2_000_000, 10_000_000]
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    print(f"work dir {work}; sizes {sizes}")
    results = []
    try:
        for rows in sizes:
            data = work / f"laion400m_{rows}.parquet"
            t = time.perf_counter()
            generate(data, rows)
            mb = data.stat().st_size / 1e6
            print(f"\n{rows:,} rows: generated {mb:,.0f} MB in {time.perf_counter() - t:.1f} s")
            audit_dir = work / f"audit_{rows}"
            ing = run_child("ingest", data, audit_dir)
            base = run_child("baseline", data, work / f"base_{rows}")
            opened = run_child("open", data, audit_dir)
            results.append((rows, ing, base, opened))
            for name, r in (("ingest", ing), ("baseline", base)):
                print(
                    f"  {name:<9} {r['rows'] / r['seconds']:>10,.0f} rows/s  "
                    f"{r['seconds']:6.1f} s  peak RSS {r['peak_rss'] / 2**20:7,.0f} MiB"
                )
            print(
                f"  ratio     speed ingest/baseline {base['seconds'] / ing['seconds']:.2f}x"
                f"  peak RSS ingest/baseline {ing['peak_rss'] / base['peak_rss']:.2f}x"
            )
            print(
                f"  open audit + summary: {opened['seconds']:.2f} s ({opened['rows']:,} samples;"
                " imports excluded)"
            )
            (work / f"base_{rows}.baseline.duckdb").unlink(missing_ok=True)
            data.unlink()
        (small, i1, b1, _), (large, i2, b2, _) = results
        print(f"\npeak RSS growth from {small:,} to {large:,} rows ({large / small:.0f}x data):")
        print(f"  ingest   {i2['peak_rss'] / i1['peak_rss']:.2f}x")
        print(f"  baseline {b2['peak_rss'] / b1['peak_rss']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
