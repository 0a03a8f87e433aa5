"""Subprocess bodies for the durability and concurrency tests (run as ``python _worker.py``).

``review AUDIT NAME COUNT``: a reviewer process deciding COUNT items through the real
session, printing ``saved N SAMPLE`` only after each decision returned (was committed).
``read AUDIT SECONDS``: a statistics/export reader plus a brief DuckDB writer, looping.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyarrow as pa

from reviewer.audit import Audit
from reviewer.review.queue import load_queue
from reviewer.review.session import ReviewSession

VERDICTS = ("confirm", "reject", "unsure", "skip")


def review(root: str, name: str, count: int) -> None:
    audit = Audit.open(Path(root))
    session = ReviewSession(audit.labels, name, load_queue(audit, name), audit.settings)
    session.start()
    for n in range(count):
        sid = session.current_id
        if sid is None:
            break
        if n % 5 == 0:
            session.reveal()
        session.decide(VERDICTS[n % len(VERDICTS)])
        print(f"saved {n + 1} {sid}", flush=True)
    session.end()
    print("done", flush=True)


def read(root: str, seconds: float) -> None:
    audit = Audit.open(Path(root))
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        audit.store.query(
            "SELECT l.verdict, count(*) FROM labels_current l JOIN samples s USING (sample_id)"
            " GROUP BY 1",
            with_labels=True,
        )
        audit.store.review.queue(audit.settings, set())
        with audit.store.connect(write=True) as conn:  # a short write, as ingest or sample do
            conn.register("_x", pa.table({"k": ["probe"], "v": [str(rounds)]}))
            conn.execute("INSERT OR REPLACE INTO meta SELECT k, v FROM _x")
        rounds += 1
    print(f"rounds {rounds}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "review":
        review(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        read(sys.argv[2], float(sys.argv[3]))
