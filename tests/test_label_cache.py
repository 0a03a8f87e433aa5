"""Current labels are cached per process and read incrementally; they never go stale.

Reviewers write from other processes (here: other connections to the same file),
so every read must see what they committed, undo included.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reviewer.store import Decision, LabelStore


def verdicts(store: LabelStore) -> dict[tuple[str, str], str]:
    table = store.current_labels().to_pylist()
    return {(r["sample_id"], r["reviewer"]): r["verdict"] for r in table}


def test_other_writers_decisions_and_undos_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    mine, theirs = LabelStore(path), LabelStore(path)
    mine.record(Decision("s1", "ana", "nsfw", "confirm"))
    assert verdicts(mine) == {("s1", "ana"): "confirm"}
    theirs.record(Decision("s2", "bo", "nsfw", "reject"))
    theirs.record(Decision("s1", "bo", "nsfw", "unsure"))
    assert verdicts(mine) == {
        ("s1", "ana"): "confirm",
        ("s2", "bo"): "reject",
        ("s1", "bo"): "unsure",
    }
    theirs.undo_last("bo")
    assert verdicts(mine) == {("s1", "ana"): "confirm", ("s2", "bo"): "reject"}
    assert mine.labelled_ids("bo") == {"s2"}
    assert [e["verdict"] for e in mine.events().to_pylist()] == [
        "confirm", "reject", "unsure", "undo",
    ]
    assert "undoes" not in mine.events().column_names


def test_unchanged_events_return_the_same_table(tmp_path: Path) -> None:
    store = LabelStore(tmp_path / "labels.sqlite")
    store.record(Decision("s1", "ana", "nsfw", "confirm"))
    first = store.current_labels()
    assert store.current_labels() is first  # nothing new: no recomputation
    store.record(Decision("s1", "ana", "nsfw", "reject"))
    assert store.current_labels() is not first
    assert verdicts(store) == {("s1", "ana"): "reject"}


def test_events_removed_by_hand_are_read_again(tmp_path: Path) -> None:
    """An administrator deleting a test reviewer's events by hand is not hidden by the cache."""
    path = tmp_path / "labels.sqlite"
    store = LabelStore(path)
    for sample in ("s1", "s2", "s3"):
        store.record(Decision(sample, "test-bot", "nsfw", "confirm"))
    store.record(Decision("s1", "ana", "nsfw", "reject"))
    assert len(verdicts(store)) == 4
    with sqlite3.connect(path) as admin:
        admin.execute("DELETE FROM events WHERE reviewer = 'test-bot'")
    assert verdicts(store) == {("s1", "ana"): "reject"}
    store.record(Decision("s2", "ana", "nsfw", "unsure"))
    assert verdicts(store) == {("s1", "ana"): "reject", ("s2", "ana"): "unsure"}


def test_one_removed_and_one_added_keeps_the_count_but_is_still_seen(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    store, other = LabelStore(path), LabelStore(path)
    store.record(Decision("s1", "test-bot", "nsfw", "confirm"))
    store.record(Decision("s2", "ana", "nsfw", "reject"))
    assert len(verdicts(store)) == 2
    with sqlite3.connect(path) as admin:
        admin.execute("DELETE FROM events WHERE reviewer = 'test-bot'")
    other.record(Decision("s3", "bo", "nsfw", "unsure"))
    assert verdicts(store) == {("s2", "ana"): "reject", ("s3", "bo"): "unsure"}


def test_a_damaged_label_file_says_to_restore_it(tmp_path: Path) -> None:
    import pytest

    from reviewer.errors import ReviewerError

    path = tmp_path / "labels.sqlite"
    path.write_bytes(b"this is not a database file, it is a damaged one" * 200)
    with pytest.raises(ReviewerError, match="not a database") as info:
        LabelStore(path)
    assert "damaged: restore labels/labels.sqlite from a backup" in info.value.one_line()
