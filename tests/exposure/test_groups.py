"""Near-duplicate groups: connected components, group decisions as their own events,
statistics that never count propagated decisions, escalation of exact copies."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.grouping import _components, build_groups
from reviewer.review.groups import Groups, by_sample, load_groups
from reviewer.review.queue import Queue
from reviewer.review.session import ReviewSession
from reviewer.store.labels import Decision, LabelStore
from tests.conftest import Cli
from tests.exposure.conftest import HashAudit


def _groups(h: HashAudit, method: str) -> set[frozenset[str]]:
    members = h.audit.store.groups.members(method)
    return {frozenset(ids) for _, ids in by_sample(members).values()}


def test_exact_groups_hold_equal_bytes_and_pdq_groups_near_copies(hashed: HashAudit) -> None:
    build_groups(hashed.audit, "sha256")
    assert _groups(hashed, "sha256") == {frozenset({"s00001", "s00002"})}
    result = build_groups(hashed.audit, "pdq")
    assert _groups(hashed, "pdq") == {
        frozenset({"s00001", "s00002"}), frozenset({"s00000", "s00003"})
    }
    assert (result.groups, result.members, result.largest) == (2, 4, 2)
    build_groups(hashed.audit, "pdq", pdq_distance=5)  # a re-run replaces the grouping
    assert _groups(hashed, "pdq") == {frozenset({"s00001", "s00002"})}


def test_components_are_transitive() -> None:
    import numpy as np

    ids = np.array(["a", "b", "c", "d", "e"], dtype=object)
    table = _components(ids, np.array([0, 1, 3]), np.array([1, 2, 3]), "pdq")
    groups = {frozenset(v[1]) for v in by_sample(table).values()}
    assert groups == {frozenset({"a", "b", "c"})}
    assert set(table.column("size").to_pylist()) == {3}


def test_groups_cli_and_bad_distance(hashed: HashAudit, cli: Cli) -> None:
    ok = cli("groups", hashed.audit.root, "--by", "sha256")
    assert ok.code == 0 and "2 of 8 hashed samples in 1 groups" in ok.out
    bad = cli("groups", hashed.audit.root, "--pdq-distance", "32")
    assert bad.code != 0 and bad.err.startswith("error: --pdq-distance 32")


def _session(labels: LabelStore, ids: list[str], groups: Groups) -> ReviewSession:
    queue = Queue("flagged", ids, list(range(len(ids))))
    session = ReviewSession(labels, "ana", queue, Settings(), groups=groups)
    session.start()
    return session


def test_group_decision_is_one_judgement_and_propagated_events(hashed: HashAudit) -> None:
    build_groups(hashed.audit, "pdq")
    build_groups(hashed.audit, "sha256")
    labels = hashed.audit.labels
    session = _session(labels, ["s00000", "s00003", "s00004"], load_groups(hashed.audit))
    assert session.group is not None and session.group[1] == ("s00000", "s00003")
    event, propagated = session.decide_group("reject")
    assert propagated == 1
    assert session.current_id == "s00004"  # the near copy left the queue
    current = labels.current_labels().to_pylist()
    assert [(r["sample_id"], r["verdict"]) for r in current] == [("s00000", "reject")]
    events = {r["sample_id"]: r for r in labels.events().to_pylist()}
    assert events["s00003"]["propagated_from"] == event.event_id
    assert events["s00003"]["group_id"] == session.groups.of("s00000")[0]  # type: ignore[index]
    assert events["s00003"]["reveal_depth"] == 0
    assert "s00003" in labels.labelled_ids("ana")
    # Undo takes back the decision and what it propagated.
    session.undo()
    assert labels.current_labels().num_rows == 0
    assert labels.labelled_ids("ana") == set()


def test_item_judged_itself_counts_even_when_also_propagated(hashed: HashAudit) -> None:
    build_groups(hashed.audit, "pdq")
    labels = hashed.audit.labels
    session = _session(labels, ["s00000", "s00003"], load_groups(hashed.audit))
    session.decide_group("confirm")
    labels.record(Decision("s00003", "ben", "nsfw", "reject"))
    current = {(r["sample_id"], r["reviewer"]) for r in labels.current_labels().to_pylist()}
    assert current == {("s00000", "ana"), ("s00003", "ben")}


def test_escalation_quarantines_exact_copies_at_once(hashed: HashAudit) -> None:
    build_groups(hashed.audit, "sha256")
    labels = hashed.audit.labels
    session = _session(labels, ["s00001", "s00004", "s00002"], load_groups(hashed.audit))
    session.decide("escalate")
    assert labels.quarantined_ids() == {"s00001", "s00002"}
    reasons = {r["sample_id"]: r["reason"] for r in labels.quarantine_table().to_pylist()}
    assert reasons["s00001"] == "escalated" and reasons["s00002"].startswith("group:sha256-")
    session.next()
    assert session.current_id is None or session.current_id != "s00002"


def test_no_group_no_group_decision() -> None:
    session = _session(LabelStore(None), ["x"], Groups())
    with pytest.raises(ReviewerError, match="no near-duplicate group"):
        session.decide_group("confirm")


def test_long_export_shows_propagated_events(hashed: HashAudit, tmp_path: object) -> None:
    from pathlib import Path

    import pyarrow.parquet as pq

    from reviewer.export import ExportOptions, export

    build_groups(hashed.audit, "pdq")
    session = _session(hashed.audit.labels, ["s00000", "s00003"], load_groups(hashed.audit))
    event, _ = session.decide_group("confirm")
    out = Path(str(tmp_path)) / "long.parquet"
    export(hashed.audit, ExportOptions(out=out, long=True))
    rows = {r["sample_id"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["s00003"]["propagated_from"] == event.event_id
    assert rows["s00003"]["standing"] and rows["s00000"]["propagated_from"] is None
    assert pa.types.is_string(pq.read_schema(out).field("group_id").type)


def test_escalation_asks_about_the_perceptual_group_and_yes_quarantines_it() -> None:
    from reviewer.review.session import NearGroupQuestion

    exact = ("sha256-1", ("a", "b"))
    near = ("pdq-1", ("a", "b", "c", "d"))
    groups = Groups(near={m: near for m in near[1]}, exact={m: exact for m in exact[1]})
    labels = LabelStore(None)
    session = _session(labels, ["a", "x", "c", "d", "b"], groups)
    assert session.folded_behind == ("c", "d", "b")
    session.decide("escalate")
    # The exact copy at once, before any answer; the near ones are asked about.
    assert labels.quarantined_ids() == {"a", "b"}
    assert session.near_question == NearGroupQuestion("a", "pdq-1", ("c", "d"), 1)
    session.next()  # x → c: unanswered, the near members are ordinary items
    assert session.current_id == "c"
    assert session.answer_near_group(True) == 2
    assert session.near_question is None
    assert session.current_id is None  # c and d left the queue, b was quarantined
    reasons = {r["sample_id"]: r["reason"] for r in labels.quarantine_table().to_pylist()}
    assert reasons == {"a": "escalated", "b": "group:sha256-1", "c": "group:pdq-1",
                       "d": "group:pdq-1"}


def test_no_leaves_the_near_duplicates_to_be_judged(hashed: HashAudit) -> None:
    build_groups(hashed.audit, "pdq")
    build_groups(hashed.audit, "sha256")
    labels = hashed.audit.labels
    session = _session(labels, ["s00000", "s00004", "s00003"], load_groups(hashed.audit))
    session.decide("escalate")  # s00000: no exact copy; s00003 is a near copy
    question = session.near_question
    assert question is not None and (question.members, question.exact_copies) == (("s00003",), 0)
    assert session.answer_near_group(False) == 0
    assert labels.quarantined_ids() == {"s00000"}
    assert [session.current_id, session.next(), session.current_id] == ["s00004", True, "s00003"]
    # Escalating with g quarantines the whole group at once: nothing is left to ask about.
    again = _session(labels, ["s00001", "s00002"], load_groups(hashed.audit))
    again.decide_group("escalate")
    assert again.near_question is None
    assert {"s00001", "s00002"} <= labels.quarantined_ids()
