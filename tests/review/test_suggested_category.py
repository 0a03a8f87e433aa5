"""Hate-only items are suggested the ``hate`` category, from the flags actually raised."""

from __future__ import annotations

from reviewer.audit import Audit
from reviewer.flaggers.runner import run_flagger
from reviewer.store.review import ReviewItem
from tests.conftest import sample_rows
from tests.flaggers.conftest import ScriptedHate


def test_suggested_category_follows_the_raised_flags() -> None:
    assert ReviewItem("a", {}, [], ["hate_any", "hate_hateful"]).suggested_category == "hate"
    assert ReviewItem("b", {}, [], ["hate_any", "keyword"]).suggested_category is None
    assert ReviewItem("c", {}, [], ["keyword"]).suggested_category is None
    assert ReviewItem("d", {}, [], []).suggested_category is None


def test_review_items_carry_the_names_of_raised_flags(audit: Audit, add_samples) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows(3, nsfw="UNLIKELY")
    rows[0]["text"] = "hot chocolate"  # keyword 'hot ' only
    rows[1]["text"] = "a caption the hate model scores high"
    add_samples(rows)
    run_flagger(audit, "keyword")
    run_flagger(
        audit,
        ScriptedHate({"s00001": {"p_hateful": 0.9, "p_targeted": 0.1, "p_aggressive": 0.2}}),
    )
    items = audit.store.review.items(["s00000", "s00001", "s00002"], audit.settings)
    assert items["s00000"].flags == ["keyword"]
    assert items["s00000"].suggested_category is None
    assert items["s00001"].flags == ["hate_any", "hate_hateful"]
    assert items["s00001"].suggested_category == "hate"
    assert items["s00002"].flags == []
