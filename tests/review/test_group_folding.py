"""One representative per near-duplicate group: the folding rule, in the session, no UI.

The rule (reviewer/review/groups.py ``fold``): the first queued member of an
undecided group represents it; the group's other queued members wait folded behind
it; ``g`` and a decision propagate to all of them; a decision on the representative
alone brings them back as ordinary items; undo folds them again.
"""

from __future__ import annotations

import pytest

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.review import item_text
from reviewer.review.groups import Groups, fold
from reviewer.review.queue import Queue, mix_breathers
from reviewer.review.session import ReviewSession
from reviewer.store.labels import Decision, LabelStore
from reviewer.store.review import ReviewItem
from tests.tui.helpers import FakeClock

ABC = ("g1", ("a", "b", "c"))
XZ = ("g2", ("x", "z"))  # z is not in the queue
GROUPS = Groups(near={"a": ABC, "b": ABC, "c": ABC, "x": XZ, "z": XZ})
IDS = ["a", "x", "b", "y", "c"]


def _session(
    ids: list[str] = IDS, labels: LabelStore | None = None, queue: Queue | None = None
) -> tuple[ReviewSession, LabelStore]:
    labels = labels if labels is not None else LabelStore(None)
    queue = queue if queue is not None else Queue("flagged", ids, list(range(len(ids))))
    session = ReviewSession(labels, "ana", queue, Settings(), clock=FakeClock(), groups=GROUPS)
    session.start()
    return session, labels


def _walk(session: ReviewSession) -> list[str]:
    seen = [session.current_id]
    while session.next():
        seen.append(session.current_id)
    return [s for s in seen if s is not None]


def test_first_queued_member_represents_an_undecided_group() -> None:
    assert fold(IDS, GROUPS, decided=set()) == {"a": ("b", "c")}
    assert fold(["b", "a", "c"], GROUPS, decided=set()) == {"b": ("a", "c")}
    # A group with a member this reviewer already judged is not folded again.
    assert fold(IDS, GROUPS, decided={"a"}) == {}
    assert fold(IDS, GROUPS, decided={"z"}) == {"a": ("b", "c")}
    # Breathers neither fold nor represent.
    assert fold(IDS, GROUPS, decided=set(), keep={"a"}) == {"b": ("c",)}
    assert fold(IDS, Groups(), decided=set()) == {}


def test_the_queue_shows_one_representative_with_its_count() -> None:
    session, _ = _session()
    assert session.folded_behind == ("b", "c")
    meta = item_text.metadata(ReviewItem("a", {}, []), session)
    assert meta["group"] == (
        "2 near-duplicates in this group (g decides all; 2 of them held back in this "
        "queue until you decide)"
    )
    assert _walk(session) == ["a", "x", "y"]
    session.next()
    assert "still wait" in item_text.empty_queue_text(session)  # b, c wait behind a
    assert session.total - session.done == 5


def test_group_decision_decides_the_folded_members_and_undo_folds_them_again() -> None:
    session, labels = _session()
    _, propagated = session.decide_group("reject")
    assert propagated == 2 and session.current_id == "x"
    assert session.done == 3
    assert _walk(session) == ["x", "y"]
    session.undo()
    assert session.current_id == "a" and session.folded_behind == ("b", "c")
    assert _walk(session) == ["a", "x", "y"]
    assert labels.current_labels().num_rows == 0


def test_judging_the_representative_alone_brings_the_members_back() -> None:
    session, labels = _session()
    session.decide("confirm")  # no g: a judgement of a alone
    assert session.folded_behind == ()
    assert _walk(session) == ["x", "b", "y", "c"]
    session.undo()  # undone: the group is undecided again
    assert session.current_id == "a" and session.folded_behind == ("b", "c")
    session.decide("reject")
    session.next()  # x
    assert session.current_id == "b"
    session.decide("confirm")  # b judged on its own ...
    session.previous()
    session.previous()
    session.undo()  # ... undo takes back b's decision only; a's stands
    assert session.current_id == "b" and session.folded_behind == ()
    # A new session (its queue leaves out the judged a): b and c are ordinary items.
    again, _ = _session(["x", "b", "y", "c"], labels=labels)
    assert again.folded_behind == ()
    assert _walk(again) == ["x", "b", "y", "c"]


def test_a_representative_escalated_elsewhere_releases_its_members() -> None:
    session, labels = _session()
    labels.record(Decision("a", "ben", "nsfw", "escalate"))
    assert session.leave_if_quarantined() == "a"
    assert session.current_id == "x"
    assert _walk(session) == ["x", "b", "y", "c"]


def test_breathers_are_not_folded() -> None:
    queue = mix_breathers(Queue("flagged", ["a", "b"], [1, 2]), ["c"], every=1)
    session, _ = _session(queue=queue)
    assert session.folded_behind == ("b",)
    assert _walk(session) == ["a", "c"]


def test_a_caption_category_is_never_propagated_to_the_group() -> None:
    """Copies of one image can carry different captions: ``g`` under ``hate`` is refused."""
    session, labels = _session()
    session.set_category("hate")
    with pytest.raises(ReviewerError, match="judged on the caption"):
        session.decide_group("confirm")
    assert labels.current_labels().num_rows == 0
    assert session.current_id == "a" and session.folded_behind == ("b", "c")
    session.decide("confirm")  # the item alone: its members come back as ordinary items
    assert _walk(session) == ["x", "b", "y", "c"]
    settings = Settings()
    settings.review.caption_categories = []
    again = ReviewSession(
        LabelStore(None),
        "ana",
        Queue("flagged", IDS, [0, 1, 2, 3, 4]),
        settings,
        clock=FakeClock(),
        groups=GROUPS,
    )
    again.start()
    again.set_category("hate")
    assert again.decide_group("confirm")[1] == 2
