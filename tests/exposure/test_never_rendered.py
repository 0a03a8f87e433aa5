"""Listed items are never rendered: a whole session over an audit with listed items.

Every screen of the session (review at each reveal step, help, statistics, the
end of the queue, the summary) is rendered to text and searched for the listed
items' captions and ids, and the image loader is spied on: it is never asked for
a listed item's pixels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image
from textual_image.widget import HalfcellImage

from reviewer.flaggers.runner import run_flagger
from reviewer.images.preview_cache import PreviewCache
from reviewer.images.resolve import load_image
from reviewer.matching import match_list
from reviewer.review.queue import load_queue
from reviewer.review.session import ReviewSession
from reviewer.tui.app import ReviewerApp
from tests.exposure.conftest import HashAudit
from tests.tui.app_fixtures import SIZE, until
from tests.tui.helpers import FakeClock, screen_text

LISTED = ("s00001", "s00002")  # b.jpg and its byte copy; both flagged by their NSFW tag


async def test_a_session_never_renders_listed_items(hashed: HashAudit, tmp_path: Path) -> None:
    audit = hashed.audit
    run_flagger(audit, "nsfw_field")
    b = hashed.files["s00001"]
    assert b is not None
    (tmp_path / "l.txt").write_text(f"md5:{hashlib.md5(b).hexdigest()}\n")
    match_list(audit, str(tmp_path / "l.txt"), "iwf")
    loaded: list[str] = []

    def spy(audit_: Any, sample: dict[str, Any], *args: Any, **kwargs: Any) -> Image.Image:
        loaded.append(str(sample["sample_id"]))
        return load_image(audit_, sample, *args, **kwargs)

    settings = audit.settings
    session = ReviewSession(
        audit.labels, "ana", load_queue(audit, "ana", None), settings, clock=FakeClock()
    )
    session.start()
    assert not set(LISTED) & set(session.queue.ids)
    app = ReviewerApp(
        audit, session, settings, previews=PreviewCache(audit, loader=spy),
        renderer=HalfcellImage,
    )
    screens: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "y Confirm" in screen_text(app))
        for _ in range(len(session.queue.ids) + 2):
            for keys in (("r",), ("r",), ("question_mark", "escape"), ("t", "escape")):
                for key in keys:
                    await pilot.press(key)
                    await pilot.pause()
                    screens.append(screen_text(app))
            await pilot.press("y")
            await pilot.pause()
            screens.append(screen_text(app))
            if session.current_id is None:
                break
        await pilot.press("q")
        await pilot.pause()
        screens.append(screen_text(app))
    # The spy and the text search do see the other items: the check could fail.
    queued = set(session.queue.ids)
    seen = {sid for sid in queued if any(f"secret caption of {sid}" in t for t in screens)}
    assert seen == queued
    assert set(loaded) <= queued and len(set(loaded)) >= 2
    for text in screens:
        for sid in LISTED:
            assert sid not in text
            assert f"secret caption of {sid}" not in text
    assert not set(LISTED) & set(loaded)
