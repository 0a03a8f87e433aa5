"""Every command at LAION scale: seconds, rows/s, peak RSS, growth, and two baselines.

    .venv/bin/python benchmarks/bench_scale.py                  # 2M, 20M, 100M rows
    .venv/bin/python benchmarks/bench_scale.py --quick          # 1M, 5M rows
    .venv/bin/python benchmarks/bench_scale.py --sizes 2000000 20000000 --data /tmp/scale-data
    .venv/bin/python benchmarks/bench_scale.py --sizes 100000000 --no-baselines --json b.json
    .venv/bin/python benchmarks/bench_scale.py --merge a.json b.json   # growth over both runs

For each size it builds LAION-400M-shaped parquet files once (``scale_data``,
kept in ``--data`` for the next run), then runs each command as a user does, a
separate ``reviewer`` process with interpreter start-up included: ``ingest``,
``flag --flagger keyword``, ``flag --flagger nsfw-field``, ``plan``, ``sample``,
review start (the app headless until the first item is drawn), ``stats``,
``export --flagged-by keyword`` and ``report``. Peak RSS is the
child's own maximum resident set (``wait4``), so DuckDB's threads count. Two
baselines run in the same way on the same files:

- DuckDB's own ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` (a new
  process, same memory limit) for ingest;
- the 2021 audit's pandas keyword rule (``df.apply`` of a lower-cased substring
  test, caption and URL), timed in-process excluding its own parquet read, for
  ``flag --flagger keyword``.

It prints one table per size (with the load average at each command), the
growth exponent b of time and memory (``t ~ rows^b`` between the smallest and
largest size: 1 is linear, 0 flat), the ratios, and whether peak memory at the
largest size stays within 1.2x of the size before it and under 2.5 GB. Every
audit gets ``[database] memory_limit`` from ``--memory-limit`` so the whole run
stays within a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # this checkout's reviewer

import scale_data

from reviewer.config import DatabaseSection

REVIEWER = [str(Path(sys.executable).with_name("reviewer"))]
PANDAS_RULE = r"""
import sys, time
import pyarrow.parquet as pq
sys.path.insert(0, sys.argv[1])
from bench_keyword import baseline
seconds = hits = 0
for path in sys.argv[2:]:  # file by file: the rule is per row, and 20M rows of pandas
    df = pq.read_table(path, columns=["TEXT", "URL"]).to_pandas()  # strings take ~5 GB
    df.columns = ["text", "url"]
    start = time.perf_counter()
    hits += int(baseline(df).sum())
    seconds += time.perf_counter() - start
    del df
print(seconds, hits)
"""
LABEL_QUEUE = r"""
import random, sys
from reviewer.audit import Audit
from reviewer.store import Decision
audit = Audit.open(sys.argv[1])
rng = random.Random(0)
for sample_id in audit.store.plans.queue_sample_ids("q"):
    verdict = rng.choice(["confirm", "reject", "reject", "unsure"])
    audit.labels.record(Decision(sample_id, "bench", "nsfw", verdict))
"""
REVIEW_START = r"""
import asyncio, sys
from reviewer.audit import Audit
from reviewer.tui.launch import prepare_in_background
audit = Audit.open(sys.argv[1])
pending = prepare_in_background(audit, "bench", "q")  # as `reviewer review --queue q` does
from textual_image.widget import HalfcellImage
from reviewer.tui.app import ReviewerApp

async def main():
    ready = pending.result()
    app = ReviewerApp(audit, ready.session, audit.settings, previews=ready.previews,
                      renderer=HalfcellImage)
    app.review_screen.rows.add(ready.page, ready.items)
    async with app.run_test(size=(120, 40), headless=True) as pilot:
        while app.review_screen.drawn != ready.session.current_id:  # first item on screen
            await pilot.pause(0.01)
        await pilot.press("q")
        await pilot.press("enter")

asyncio.run(main())
"""
DUCKDB_CTAS = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(f"SET memory_limit = '{sys.argv[2]}'")
con.execute("SET temp_directory = ?", [sys.argv[1] + ".tmp"])
files = ", ".join("'" + f + "'" for f in sys.argv[3:])
con.execute(f"CREATE TABLE samples AS SELECT * FROM read_parquet([{files}])")
con.close()
"""


@dataclass
class Measured:
    """One process: wall seconds and peak resident memory."""

    seconds: float
    peak_mb: float
    output: str
    cpu_seconds: float = 0.0


def measure(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a process to completion; its own peak RSS comes from ``wait4``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{output[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, usage.ru_maxrss / 1024, output, cpu)  # ru_maxrss: KiB on Linux


def figures(rows: int, seconds: float, peak_mb: float) -> dict[str, float]:
    """The figures printed for one command at one size."""
    return {"seconds": seconds, "rows_per_s": rows / seconds, "peak_mb": peak_mb}


def commands(audit: Path, files: list[Path]) -> list[tuple[str, list[str]]]:
    """The commands a user runs, in order, as argument lists."""
    a = str(audit)
    return [
        ("ingest", ["ingest", a, *map(str, files)]),
        ("flag keyword", ["flag", a, "--flagger", "keyword"]),
        ("flag nsfw-field", ["flag", a, "--flagger", "nsfw-field"]),
        ("plan", ["plan", a, "--margin", "0.05", "--strata", "flag,nsfw"]),
        ("sample", ["sample", a, "--name", "q", "--strata", "flag,nsfw", "--per-stratum", "100",
                    "--replace"]),  # --replace: a reused audit holds the plan already
        ("review start", []),  # the review app headless until the first item is drawn
        ("stats", ["stats", a]),
        ("export flagged", ["export", a, "--flagged-by", "keyword", "--out", a + "/e.parquet",
                            "--force"]),
        ("report", ["report", a, "--out", a + "/report.html"]),
    ]


BUILDS = ("ingest", "flag keyword", "flag nsfw-field")
"""The commands that make the audit the others read."""


def make_audit(audit: Path, memory_limit: str, env: dict[str, str], reuse: bool) -> bool:
    """A fresh audit with ``memory_limit``, or (``reuse``) the built one kept by an earlier
    run; True when the audit is reused and needs no building."""
    reused = reuse and (audit / ".bench-built").exists()
    if not reused:
        shutil.rmtree(audit, ignore_errors=True)
        subprocess.run([*REVIEWER, "init", str(audit)], check=True, capture_output=True, env=env)
    settings = audit / "reviewer.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        re.sub(r'memory_limit = "[^"]*"', f'memory_limit = "{memory_limit}"', text),
        encoding="utf-8",
    )
    return reused


def run_size(
    rows: int, data: Path, memory_limit: str, only: set[str] | None = None,
    baselines: bool = True, reuse: bool = False,
) -> dict[str, dict[str, float]]:
    """All commands (or ``only`` those) and both baselines at one size: name -> figures.

    With ``reuse``, an audit kept by an earlier ``--keep-audits`` run is measured again
    without building it anew (ingest and both flag runs are skipped)."""
    files = scale_data.dataset(data / f"rows-{rows}", rows)
    audit = data / f"audit-{rows}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    reused = make_audit(audit, memory_limit, env, reuse)
    out: dict[str, dict[str, float]] = {}
    for name, argv in commands(audit, files):
        if reused and name in BUILDS:
            continue
        if only is not None and name not in only and name not in ("ingest", "flag keyword"):
            continue  # ingest and flag keyword make the audit the others need
        if name == "stats":  # a reviewer works through the queue (not timed)
            subprocess.run([sys.executable, "-c", LABEL_QUEUE, str(audit)], check=True, env=env)
        run = [sys.executable, "-c", REVIEW_START, str(audit)] if name == "review start" else [
            *REVIEWER, *argv]
        m = measure(run, env)
        out[name] = figures(rows, m.seconds, m.peak_mb)
        out[name]["load"] = os.getloadavg()[0]
        if name == BUILDS[1]:
            (audit / ".bench-built").touch()  # ingested and flagged: a --reuse-audits run can go on
        print(f"  {name:<16} {m.seconds:8.1f} s {rows / m.seconds:12,.0f} rows/s "
              f"{m.peak_mb:7,.0f} MB   load {out[name]['load']:.1f}", flush=True)
    if not baselines:
        return out
    ctas_db = data / f"ctas-{rows}.duckdb"
    ctas_db.unlink(missing_ok=True)
    m = measure([sys.executable, "-c", DUCKDB_CTAS, str(ctas_db), memory_limit, *map(str, files)])
    ctas_db.unlink(missing_ok=True)
    shutil.rmtree(str(ctas_db) + ".tmp", ignore_errors=True)
    out["duckdb CTAS"] = figures(rows, m.seconds, m.peak_mb)
    m = measure([sys.executable, "-c", PANDAS_RULE, str(Path(__file__).parent), *map(str, files)])
    seconds = float(m.output.split()[-2])
    out["pandas keyword"] = figures(rows, seconds, m.peak_mb)
    for name in ("duckdb CTAS", "pandas keyword"):
        r = out[name]
        print(f"  {name:<16} {r['seconds']:8.1f} s {r['rows_per_s']:12,.0f} rows/s "
              f"{r['peak_mb']:7,.0f} MB   load {os.getloadavg()[0]:.1f}", flush=True)
    ingest, ctas = out["ingest"]["seconds"], out["duckdb CTAS"]["seconds"]
    keyword, pandas = out["flag keyword"]["seconds"], out["pandas keyword"]["seconds"]
    print(f"  ingest speed / DuckDB CTAS: {ctas / ingest:.2f}x (target >= 0.5x)")
    print(f"  flag keyword vs pandas df.apply: {pandas / keyword:.1f}x faster (whole process)")
    return out


def growth(results: dict[int, dict[str, dict[str, float]]]) -> None:
    """Exponent b of ``value ~ rows^b`` between the smallest and largest size."""
    sizes = sorted(results)
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    span = math.log(large / small)
    print(f"\ngrowth from {small:,} to {large:,} rows (b: 1 = linear, 0 = flat)")
    print(f"  {'command':<16} {'time b':>7} {'memory b':>9} {'memory ratio':>13}")
    for name in results[small]:
        if name not in results[large]:
            continue
        a, b = results[small][name], results[large][name]
        tb = math.log(b["seconds"] / a["seconds"]) / span
        mb = math.log(b["peak_mb"] / a["peak_mb"]) / span
        print(f"  {name:<16} {tb:7.2f} {mb:9.2f} {b['peak_mb'] / a['peak_mb']:12.2f}x")


def flat_memory(results: dict[int, dict[str, dict[str, float]]]) -> None:
    """The issue's memory target: peak RSS at the largest size <= 1.2x that at the one
    before it, and <= 2.5 GB, for every command."""
    sizes = sorted(results)
    if len(sizes) < 2:
        return
    before, last = sizes[-2], sizes[-1]
    print(f"\nmemory at {last:,} vs {before:,} rows (target <= 1.2x and <= 2,500 MB)")
    for name, b in results[last].items():
        if name in ("duckdb CTAS", "pandas keyword") or name not in results[before]:
            continue
        ratio = b["peak_mb"] / results[before][name]["peak_mb"]
        ok = ratio <= 1.2 and b["peak_mb"] <= 2500
        print(f"  {name:<16} {b['peak_mb']:7,.0f} MB {ratio:6.2f}x  {'ok' if ok else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M and 5M rows")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--data", type=Path, default=Path("/tmp/reviewer-bench-scale"))
    parser.add_argument(
        "--memory-limit", default=DatabaseSection.memory_limit,
        help="[database] memory_limit (default: reviewer's own)",
    )
    parser.add_argument(
        "--only", default=None, help="comma-separated commands, e.g. 'export flagged,plan'"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep-audits", action="store_true", help="keep the audits built")
    parser.add_argument(
        "--reuse-audits", action="store_true",
        help="measure the audits a --keep-audits run kept without building them again",
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip DuckDB CTAS and the pandas rule"
    )
    parser.add_argument(
        "--merge", type=Path, nargs="+", default=None,
        help="print growth and memory over the --json files of earlier runs, run nothing",
    )
    args = parser.parse_args()
    if args.merge:
        merged = {int(k): v for f in args.merge for k, v in json.loads(f.read_text()).items()}
        growth(merged)
        flat_memory(merged)
        return
    sizes = args.sizes or ([1_000_000, 5_000_000] if args.quick else [2_000_000, 20_000_000,
                                                                       100_000_000])
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, DuckDB memory limit "
          f"{args.memory_limit}, data in {args.data}")
    results: dict[int, dict[str, dict[str, float]]] = {}
    for rows in sizes:
        print(f"\n{rows:,} rows", flush=True)
        only = set(args.only.split(",")) if args.only else None
        results[rows] = run_size(
            rows, args.data, args.memory_limit, only, not args.no_baselines, args.reuse_audits
        )
        if not (args.keep_audits or args.reuse_audits):
            shutil.rmtree(args.data / f"audit-{rows}", ignore_errors=True)
    growth(results)
    flat_memory(results)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(other processes slow both sides of every ratio)")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
