"""Exposure figures in the session summary, ``reviewer stats`` and the report."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from reviewer.flaggers.runner import run_flagger
from reviewer.grouping import build_groups
from reviewer.matching import match_list
from reviewer.review.groups import load_groups
from reviewer.review.queue import Queue
from reviewer.review.session import ReviewSession
from reviewer.stats.exposure import exposure_figures
from tests.conftest import Cli
from tests.exposure.conftest import HashAudit
from tests.tui.helpers import FakeClock


def test_figures_count_what_was_seen_and_what_was_not(
    hashed: HashAudit, tmp_path: Path, cli: Cli
) -> None:
    audit = hashed.audit
    b = hashed.files["s00001"]
    assert b is not None
    (tmp_path / "l.txt").write_text(f"md5:{hashlib.md5(b).hexdigest()}\n")
    match_list(audit, str(tmp_path / "l.txt"), "iwf")  # s00001, s00002: never shown
    build_groups(audit, "pdq")
    clock = FakeClock()
    queue = Queue("flagged", ["s00000", "s00003", "s00004", "s00007"], [1, 2, 3, 4])
    session = ReviewSession(audit.labels, "ana", queue, audit.settings, clock=clock,
                            groups=load_groups(audit))
    session.start()
    session.decide_group("reject")  # s00000 and its near copy s00003: no reveal
    while session.reveal() is None:  # step by step to full colour
        pass
    clock.advance(12)
    session.decide("confirm")  # s00004 after 12 s in full colour
    session.decide("reject")  # s00007, no reveal
    summary = "\n".join(session.end().lines())
    reveals = session.wellbeing.session.reveals
    assert reveals >= 2
    assert f"{reveals / 3:.2f} reveals per decision" in summary
    assert "Left in this queue: 0" in summary
    assert "67% of decisions with no reveal" in summary
    assert "12 s in full colour" in summary
    assert "1 decision propagated to near-duplicates" in summary

    labels = audit.labels
    figures = exposure_figures(labels.events(), labels.exposure(), labels.quarantine_table(),
                               labels.propagated_count())
    assert figures["decisions"] == 3 and figures["reveals"] == reveals
    assert figures["no_reveal_share"] == 2 / 3
    assert figures["never_rendered_listed"] == 2
    assert figures["propagated_decisions"] == 1
    (day,) = figures["full_colour_seconds"]
    assert day["reviewer"] == "ana" and day["seconds"] == 12.0

    run_flagger(audit, "nsfw_field")
    stats = cli("stats", audit.root)
    assert stats.code == 0, stats.err
    assert "Exposure: seen to decide" in stats.out
    assert re.search(r"items never rendered because a list matched +2\n", stats.out)
    report = cli("report", audit.root, "--out", tmp_path / "r.md")
    assert report.code == 0, report.err
    assert "decisions propagated to near-duplicate groups" in (tmp_path / "r.md").read_text()
