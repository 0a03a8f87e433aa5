"""The notebook API gives the numbers `reviewer stats` prints, as DataFrames."""

from __future__ import annotations

from reviewer.api import AuditHandle
from reviewer.audit import Audit
from reviewer.flaggers.runner import run_flagger
from reviewer.store import Decision
from tests.conftest import sample_rows


def test_precision_from_the_api_counts_confirmed_flagged_items(audit: Audit, add_samples) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows(4, nsfw="UNLIKELY")
    rows[0]["text"] = "xxx rated"  # keyword, confirmed below
    rows[1]["text"] = "Essex coast"  # keyword ('sex'), rejected below
    add_samples(rows)
    run_flagger(audit, "keyword")
    audit.labels.record(Decision("s00000", "ana", "nsfw", "confirm"))
    audit.labels.record(Decision("s00001", "ana", "nsfw", "reject"))
    handle = AuditHandle(audit)
    table = handle.precision().set_index("flag")
    keyword = table.loc["keyword"]
    assert (keyword["flagged"], keyword["judged"], keyword["confirmed"]) == (2, 2, 1)
    assert keyword["labelled_share"] == 0.5
    assert keyword["precision"] is None  # no plan: nothing generalises beyond the labels
    assert handle.field_table().loc["confirm", "UNLIKELY"] == 1
    assert list(handle.reviewer_summary()["reviewer"]) == ["ana"]
