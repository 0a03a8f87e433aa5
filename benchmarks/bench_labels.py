"""Reading current labels: DuckDB over incrementally cached events vs SQLite's window query.

Every statistic, export and audit summary starts from the current label of each
(sample, reviewer, category). Baseline: the same query run by SQLite on the label
file (what ``LabelStore`` did before). Ours: the first read (all events into
Arrow, the window in DuckDB), then a read after one new decision (only the new
event is fetched), then a read with nothing new (cached). Checks both agree.

    .venv/bin/python benchmarks/bench_labels.py [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewer.store import Decision, LabelStore  # noqa: E402

SQLITE_CURRENT = """
SELECT sample_id, reviewer, category, verdict, subtags, created_at,
       seconds_on_item, reveal_depth, note, session_id, queue, event_id
FROM (
    SELECT e.*, ROW_NUMBER() OVER (
        PARTITION BY e.sample_id, e.reviewer, e.category ORDER BY e.event_id DESC) AS rn
    FROM events e
    WHERE e.verdict != 'undo'
      AND e.event_id NOT IN (SELECT undoes FROM events WHERE verdict = 'undo'
                             AND undoes IS NOT NULL)
)
WHERE rn = 1 ORDER BY event_id
"""


def fill(path: Path, n: int, seed: int = 0) -> None:
    """n decisions by 5 reviewers on n samples, 1 % of them undone."""
    LabelStore(path).close()
    rnd = random.Random(seed)
    verdicts = ["confirm", "reject", "unsure", "skip"]
    rows = [
        (f"s{rnd.randrange(n):08d}", f"r{rnd.randrange(5)}", "nsfw", rnd.choice(verdicts),
         "2026-11-22T10:00:00.000000+00:00", 3.2, 1, "session", "main")
        for _ in range(n)
    ]
    undos = [
        (f"s{i:08d}", "r0", "nsfw", "undo", rnd.randrange(1, n), "2026-11-22T11:00:00+00:00")
        for i in range(n // 100)
    ]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO events(sample_id, reviewer, category, verdict, created_at,"
            " seconds_on_item, reveal_depth, session_id, queue) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO events(sample_id, reviewer, category, verdict, undoes, created_at)"
            " VALUES (?,?,?,?,?,?)",
            undos,
        )


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k events")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    n = args.events or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.sqlite"
        fill(path, n)
        with sqlite3.connect(path) as conn:
            t_base, base_rows = timed(lambda: conn.execute(SQLITE_CURRENT).fetchall())
        store = LabelStore(path)
        t_first, first = timed(store.current_labels)
        store.record(Decision("s-new", "r1", "nsfw", "confirm"))
        t_after, after = timed(store.current_labels)
        t_cached, _ = timed(store.current_labels)
        store.close()
    same = [tuple(r.values()) for r in first.to_pylist()] == base_rows
    print(f"{n:,} events, {len(base_rows):,} current labels; identical to SQLite: {same}")
    print(f"SQLite window query (baseline): {t_base:7.3f} s")
    print(f"ours, first read:               {t_first:7.3f} s  ratio {t_base / t_first:6.1f}x")
    print(f"ours, after one new decision:   {t_after:7.3f} s  ratio {t_base / t_after:6.1f}x")
    print(f"ours, nothing new:              {t_cached:7.3f} s  ratio {t_base / t_cached:6.1f}x")
    assert after.num_rows == first.num_rows + 1


if __name__ == "__main__":
    main()
