"""Probe statistics: shares of each probe's top K, checked by counting by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.api import open_audit
from reviewer.audit import Audit
from reviewer.store.labels import Decision

from .conftest import ingest_laion, invoke, metadata_table, write_shards


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval written out (Wilson 1927), independent of the code's statsmodels."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_probe_stats_count_the_top_k(tmp_path: Path, audit_dir: Path) -> None:
    root = tmp_path / "laion"
    write_shards(root, [60])
    table = metadata_table(60)
    captions = [f"caption {i}" + (" porn" if i % 4 == 0 else "") for i in range(60)]
    pq.write_table(
        table.set_column(2, "TEXT", pa.array(captions)), root / "metadata" / "metadata_0.parquet"
    )
    assert ingest_laion(audit_dir, root).code == 0
    assert invoke("flag", audit_dir, "--flagger", "keyword").code == 0
    assert invoke("probe", audit_dir, "--like", "5", "--top", "12", "--name", "p5").code == 0
    audit = Audit.open(audit_dir)
    try:
        ids = audit.store.probes.queue_ids("p5")
        verdicts = {
            ids[0]: "confirm",
            ids[1]: "confirm",
            ids[2]: "reject",
            ids[3]: "reject",
            ids[4]: "reject",
            ids[5]: "unsure",
        }
        for sid, verdict in verdicts.items():
            audit.labels.record(Decision(sid, "ana", "nsfw", verdict, queue="p5"))
        # A second reviewer confirming a rejected item makes it judged harmful.
        audit.labels.record(Decision(ids[2], "ben", "nsfw", "confirm", queue="p5"))
    finally:
        audit.close()
    tags = {str(i): ("UNLIKELY", "UNSURE", "NSFW")[i % 3] for i in range(60)}
    expected_nsfw = sum(tags[s] == "NSFW" for s in ids) / 12
    expected_unsure = sum(tags[s] == "UNSURE" for s in ids) / 12
    expected_keyword = sum(int(s) % 4 == 0 for s in ids) / 12
    low, high = _wilson(3, 5)  # judged: ids 0-4 (5 items), harmful: ids 0, 1, 2

    result = invoke("stats", audit_dir, "--json")
    assert result.code == 0, result.err
    row = json.loads(result.out)["probes"][0]
    assert (row["probe"], row["items"], row["judged"], row["harmful"]) == ("p5", 12, 5, 3)
    assert math.isclose(row["harmful_share"], 0.6)
    assert math.isclose(row["harmful_low"], low, abs_tol=1e-9)
    assert math.isclose(row["harmful_high"], high, abs_tol=1e-9)
    assert math.isclose(row["tag_nsfw"], expected_nsfw)
    assert math.isclose(row["tag_unsure"], expected_unsure)
    assert math.isclose(row["keyword"], expected_keyword) and row["hate"] == 0

    text = invoke("stats", audit_dir).out
    assert "Probes: top K by similarity" in text and "p5" in text and "60.0%" in text
    out = tmp_path / "report.html"
    assert invoke("report", audit_dir, "--out", out).code == 0
    html = out.read_text(encoding="utf-8")
    assert "Probes: top K by similarity" in html and "p5" in html
    with open_audit(audit_dir) as handle:
        frame = handle.probe_stats()
        assert frame.loc[0, "harmful"] == 3 and frame.loc[0, "judged"] == 5
        queued = handle.probe(like="7", top=4, name="p7")
        assert list(queued["position"]) == [0, 1, 2, 3] and set(queued["probe"]) == {"p7"}
        assert list(queued["sample_id"]) == handle.store.probes.queue_ids("p7")


async def test_stats_screen_shows_the_probes(tmp_path: Path, audit_dir: Path) -> None:
    from textual.app import App

    from reviewer.tui.screens.stats_screen import StatsScreen
    from tests.tui.helpers import screen_text

    write_shards(tmp_path / "laion", [30])
    ingest_laion(audit_dir, tmp_path / "laion")
    assert (
        invoke("probe", audit_dir, "--like", "3", "--top", "5", "--name", "[bold]x").code == 0
    )
    audit = Audit.open(audit_dir)
    try:
        first = audit.store.probes.queue_ids("[bold]x")[0]
        audit.labels.record(Decision(first, "ana", "nsfw", "confirm"))
        app: App[None] = App()
        async with app.run_test(size=(140, 60)) as pilot:
            await app.push_screen(StatsScreen(audit))
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = screen_text(app)
            assert "Probes: harmful among judged items" in text
            assert "[bold]x" in text and "1/5" in text  # the name shown as text, not markup
    finally:
        audit.close()
