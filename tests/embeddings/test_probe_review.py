"""A probe's queue opens in the real review app, in similarity order, with its reason shown."""

from __future__ import annotations

from pathlib import Path

from reviewer.audit import Audit
from tests.tui.app_fixtures import SIZE, build_app, current_labels, until
from tests.tui.helpers import screen_text

from .conftest import ingest_laion, invoke, write_shards


async def test_probe_queue_is_reviewed_like_any_queue(tmp_path: Path, audit_dir: Path) -> None:
    write_shards(tmp_path / "laion", [40])
    ingest_laion(audit_dir, tmp_path / "laion")
    assert invoke("probe", audit_dir, "--like", "7", "--top", "4", "--name", "near7").code == 0
    audit = Audit.open(audit_dir)
    try:
        audit.settings.review.breather_every = 0
        expected = audit.store.probes.queue_ids("near7")
        app = build_app(audit, queue="near7")
        async with app.run_test(size=SIZE) as pilot:
            await until(
                pilot,
                lambda: (
                    app.session.current_id is not None
                    and app.review_screen.rows.get(app.session.current_id) is not None
                ),
            )
            assert app.session.current_id == expected[0]
            await until(pilot, lambda: "probe 'sample 7': similarity" in screen_text(app))
            await pilot.press("y")
            await until(pilot, lambda: len(current_labels(audit)) == 1)
            assert app.session.current_id == expected[1]
        stored = current_labels(audit)
        assert [(r["sample_id"], r["verdict"], r["queue"]) for r in stored] == [
            (expected[0], "confirm", "near7")
        ]
    finally:
        audit.close()
