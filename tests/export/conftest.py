"""A fixture audit with KNOWN labels, flags and a queue, for every export test.

Expected consensus (category nsfw unless said; ana, bob, cy review):

=======  =====================================  =========  ==========  =====
sample   current labels                         majority   unanimous   any
=======  =====================================  =========  ==========  =====
s00000   ana confirm, bob confirm               confirm 1  confirm 1   confirm 1
s00001   ana confirm, bob reject                unsure 0   unsure 0    confirm .5
s00002   ana reject, bob reject, cy confirm     reject 2/3 unsure 0    confirm 1/3
s00003   ana skip (cy confirm, undone)          skip 1     skip 1      skip 1
s00004   ana ESCALATE, bob confirm              (quarantined: only in removal lists)
s00005   ana nsfw reject, ana hate confirm      reject / hate confirm
s00006   ana unsure, bob skip                   unsure 1 (n_reviewers 2)
s00007   ana confirm, then ana reject           reject 1
s00008   bob privacy confirm                    privacy confirm 1
s00009   (none; dataset laion2b-en, has hash)
=======  =====================================  =========  ==========  =====

Flags: keyword (term "forbidden") on s00000, s00002, s00008; nsfw_field tag NSFW on
s00002, s00005, s00008 and UNSURE (nsfw_field_unsure) on s00001, s00004, s00007.
Queue ``q1``: s00001, s00002, s00004, s00008.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.audit import Audit
from reviewer.flaggers.runner import run_flagger
from reviewer.store import Decision
from tests.conftest import sample_rows

SECRET = "SECRET-ESCALATED-CAPTION"
ESCALATED = "s00004"
ALL_IDS = [f"s{i:05d}" for i in range(10)]
VISIBLE_IDS = [i for i in ALL_IDS if i != ESCALATED]

CAPTIONS = {
    "s00000": "forbidden fruit 🍎 emoji",
    "s00001": "שלום עולם مرحبا RTL text",
    "s00002": "a forbidden\nmulti-line\r\ncaption, with \"quotes\" and 'single'",
    "s00003": "",
    "s00004": SECRET,
    "s00008": "forbidden " + "x" * 100_000,
}

LABELS: list[tuple[str, str, str, str]] = [
    ("s00000", "ana", "nsfw", "confirm"),
    ("s00000", "bob", "nsfw", "confirm"),
    ("s00001", "ana", "nsfw", "confirm"),
    ("s00001", "bob", "nsfw", "reject"),
    ("s00002", "ana", "nsfw", "reject"),
    ("s00002", "bob", "nsfw", "reject"),
    ("s00002", "cy", "nsfw", "confirm"),
    ("s00003", "ana", "nsfw", "skip"),
    ("s00004", "bob", "nsfw", "confirm"),
    ("s00004", "ana", "nsfw", "escalate"),
    ("s00005", "ana", "nsfw", "reject"),
    ("s00005", "ana", "hate", "confirm"),
    ("s00006", "ana", "nsfw", "unsure"),
    ("s00006", "bob", "nsfw", "skip"),
    ("s00007", "ana", "nsfw", "confirm"),
    ("s00007", "ana", "nsfw", "reject"),
    ("s00008", "bob", "privacy", "confirm"),
]


def build_fixture_audit(root: Path) -> Audit:
    """Create the audit described in the module docstring."""
    audit = Audit.init(root)
    rows = sample_rows(10)
    for row in rows:
        row["text"] = CAPTIONS.get(row["sample_id"], row["text"])
        row["extra_note"] = f"meta-{row['sample_id']}"
    rows[9]["dataset"] = "laion2b-en"
    rows[9]["hash"] = "abc123"
    rows[4]["hash"] = "esc999"
    import pyarrow as pa

    with audit.store.connect(write=True) as conn:
        audit.store.samples.insert(conn, pa.Table.from_pylist(rows))
        conn.execute("INSERT INTO plans (name, seed) VALUES ('q1', 0)")
        for pos, sid in enumerate(["s00001", "s00002", "s00004", "s00008"]):
            conn.execute(
                "INSERT INTO plan_items (plan, position, sample_id) VALUES ('q1', ?, ?)",
                [pos, sid],
            )
    for sid, reviewer, category, verdict in LABELS:
        note = f"note on {SECRET}" if verdict == "escalate" else None
        audit.labels.record(Decision(sid, reviewer, category, verdict, note=note))
    audit.labels.record(Decision("s00003", "cy", "nsfw", "confirm"))
    audit.labels.undo_last("cy")
    audit.labels.add_reviewer("dan")
    run_flagger(audit, "keyword", terms=["forbidden"])
    run_flagger(audit, "nsfw-field")
    return audit


@pytest.fixture(scope="session")
def fixture_audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture audit, built once per session (exports never modify it)."""
    root = tmp_path_factory.mktemp("export") / "audit"
    build_fixture_audit(root).close()
    return root


@pytest.fixture
def fx(fixture_audit_dir: Path) -> Iterator[Audit]:
    """The fixture audit, opened."""
    audit = Audit.open(fixture_audit_dir)
    yield audit
    audit.close()
