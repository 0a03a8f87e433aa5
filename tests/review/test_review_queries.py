"""The store side of reviewing: the default queue, breathers, item rows and reasons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.review.queue import load_queue
from reviewer.store.labels import Decision
from reviewer.store.review import ArrowStrings
from tests.conftest import Cli, sample_rows
from tests.tui.app_fixtures import build_audit


@pytest.fixture
def punsafe_audit(tmp_path: Path) -> Iterator[Audit]:
    rows = sample_rows(60)
    rows[7]["punsafe"] = 0.74  # tagged UNSURE anyway (7 % 3 == 1)
    rows[9]["punsafe"] = 0.95  # tagged UNLIKELY, flagged by punsafe alone
    a = build_audit(tmp_path / "a", rows=rows)
    yield a
    a.close()


def _flagged(n: int = 60) -> set[str]:
    return {f"s{i:05d}" for i in range(n) if i % 3 != 0} | {"s00009"}


def test_default_queue_is_flagged_seeded_and_not_in_storage_order(punsafe_audit: Audit) -> None:
    rows = punsafe_audit.store.review.queue(punsafe_audit.settings, set())
    ids = list(rows.ids)
    assert set(ids) == _flagged()
    assert ids != sorted(ids)
    assert list(rows.ranks) == sorted(rows.ranks)
    again = punsafe_audit.store.review.queue(punsafe_audit.settings, set())
    assert list(again.ids) == ids
    other = Settings.from_dict({"review": {"seed": 7}})
    assert list(punsafe_audit.store.review.queue(other, set()).ids) != ids


def test_labelled_items_leave_the_queue_without_reordering_the_rest(punsafe_audit: Audit) -> None:
    full = list(punsafe_audit.store.review.queue(punsafe_audit.settings, set()).ids)
    done = {full[0], full[5], "s00000"}  # s00000 is not flagged: does not count
    rows = punsafe_audit.store.review.queue(punsafe_audit.settings, done)
    assert list(rows.ids) == [i for i in full if i not in done]
    assert rows.already_done == 2


def test_quarantined_items_never_come_back(punsafe_audit: Audit) -> None:
    full = list(punsafe_audit.store.review.queue(punsafe_audit.settings, set()).ids)
    punsafe_audit.labels.record(Decision(full[3], "bob", "nsfw", "escalate"))
    queue = load_queue(punsafe_audit, "ana")
    assert full[3] not in list(queue.ids)
    assert queue.size == len(full) - 1


def test_own_escalations_count_as_done_in_the_next_session(punsafe_audit: Audit) -> None:
    """1/24 done with an escalation must not become 0/23 when the reviewer comes back."""
    full = list(punsafe_audit.store.review.queue(punsafe_audit.settings, set()).ids)
    punsafe_audit.labels.record(Decision(full[2], "ana", "nsfw", "escalate"))
    punsafe_audit.labels.record(Decision(full[4], "bob", "nsfw", "escalate"))
    mine = load_queue(punsafe_audit, "ana")
    assert full[2] not in list(mine.ids) and full[4] not in list(mine.ids)
    assert mine.already_done == 1  # ana's escalation; bob's is not ana's work
    assert mine.size == len(full) - 1  # bob's escalation left the queue


def test_own_escalations_count_as_done_in_a_plan_queue(punsafe_audit: Audit, cli: Cli) -> None:
    drawn = cli(
        "sample", punsafe_audit.root, "--name", "p1", "--strata", "nsfw", "--per-stratum", "3"
    )
    assert drawn.code == 0, drawn
    items = punsafe_audit.store.plans.queue_sample_ids("p1")
    punsafe_audit.labels.record(Decision(items[0], "ana", "nsfw", "escalate", queue="p1"))
    punsafe_audit.labels.record(Decision(items[1], "bob", "nsfw", "escalate", queue="p1"))
    mine = load_queue(punsafe_audit, "ana", plan="p1")
    assert items[0] not in list(mine.ids) and items[1] not in list(mine.ids)
    assert (mine.already_done, mine.size) == (1, len(items) - 1)


def test_breathers_are_unflagged_unlikely_items(punsafe_audit: Audit) -> None:
    settings = Settings.from_dict({"review": {"breather_every": 5}})
    breathers = punsafe_audit.store.review.breather_ids(settings, 4, set())
    assert len(breathers) == 4
    assert not set(breathers) & _flagged()
    assert all(int(b[1:]) % 3 == 0 for b in breathers)
    punsafe_audit.settings = settings
    queue = load_queue(punsafe_audit, "ana")
    assert queue.ids[5] in queue.breathers and queue.size == len(_flagged())


def test_items_carry_rows_and_specific_reasons(punsafe_audit: Audit) -> None:
    items = punsafe_audit.store.review.items(["s00007", "s00009", "nope"], punsafe_audit.settings)
    assert set(items) == {"s00007", "s00009"}
    assert items["s00007"].reasons == ["NSFW field: UNSURE", "punsafe 0.74"]
    assert items["s00009"].reasons == ["punsafe 0.95"]
    assert items["s00007"].row["text"] == "caption number 7"


def test_arrow_strings_behave_like_a_list() -> None:
    values = [f"id{i}" for i in range(70_000)]
    seq = ArrowStrings(pa.array(values))
    assert len(seq) == 70_000 and list(seq) == values
    assert seq[3] == "id3" and seq[-1] == "id69999"
    assert seq[69_998:80_000] == ["id69998", "id69999"] and seq[0:6:2] == ["id0", "id2", "id4"]
    with pytest.raises(IndexError):
        seq[70_000]
