"""The words around an item, without the UI."""

from __future__ import annotations

from reviewer.review import item_text
from reviewer.review.queue import mix_breathers
from reviewer.store.review import ReviewItem
from tests.tui.helpers import make_queue, make_session


def test_metadata_names_the_domain_size_and_the_reviewers_own_decision() -> None:
    session, _, _ = make_session(3)
    row = {
        "dataset": "laion2b-en",
        "url": "https://cdn.example.org:8080/x.jpg?a=1",
        "license": "cc-by",
        "width": 640,
        "height": 480,
    }
    meta = item_text.metadata(ReviewItem("s0", row, []), session)
    assert meta == {
        "sample": "s0",
        "dataset": "laion2b-en",
        "domain": "cdn.example.org",
        "license": "cc-by",
        "size": "640×480",
    }
    session.decide("reject")
    session.previous()
    broken = item_text.metadata(ReviewItem("s0", {"url": "http://[::1"}, []), session)
    assert broken["domain"] == "?" and broken["size"] == "?"
    assert broken["your decision"] == "reject"


def test_breathers_are_marked_and_progress_and_empty_texts() -> None:
    session, _, _ = make_session(queue=mix_breathers(make_queue(1), ["b0"], every=1))
    session.next()
    assert "breather" in item_text.metadata(ReviewItem("b0", {}, []), session)
    line = item_text.progress_line(session)
    assert line.startswith("0 / 1 done · – items/h · category nsfw · reviewer ana")
    session.next()
    assert item_text.empty_queue_text(session).startswith("End of the queue: 0 of 1")
