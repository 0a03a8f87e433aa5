"""The one-representative queue rule keeps the plan's statistics honest.

A plan's queue is walked with near-duplicate groups folded behind their
representatives. Decisions propagated with ``g`` are not judgements: the design
counts only items a person decided on themselves (a representative judged alone
brings its members back, and their own decisions count). Expected figures are
computed here by hand from which items were judged by whom.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.review.groups import load_groups
from reviewer.review.queue import load_queue
from reviewer.review.session import ReviewSession
from reviewer.sampling import SampleSpec, draw_plan
from reviewer.stats.audit_stats import compute_stats


def test_group_decisions_leave_the_design_to_the_items_judged(  # type: ignore[no-untyped-def]
    audit: Audit, add_samples, make_rows, set_flags
) -> None:
    add_samples(make_rows(60))
    set_flags([(f"s{i:05d}", "keyword") for i in range(60)])
    draw_plan(audit, SampleSpec("round1", strata=("flag",), per_stratum=20, seed=3))
    plan = list(audit.store.plans.queue_sample_ids("round1"))
    g_members, alone_members = plan[2:5], plan[7:9]  # two groups of sampled items
    outside = "s00059" if "s00059" not in plan else "s00058"
    members = pa.table({
        "group_id": ["pdq-1"] * 4 + ["pdq-2"] * 2,
        "sample_id": [*g_members, outside, *alone_members],
        "size": [4] * 4 + [2] * 2,
    })
    audit.store.groups.replace("pdq", "{}", members)

    session = ReviewSession(audit.labels, "ana", load_queue(audit, "ana", "round1"),
                            audit.settings, groups=load_groups(audit))
    session.start()
    judged: dict[str, str] = {}
    while (sid := session.current_id) is not None:
        assert sid not in g_members[1:]  # folded behind g_members[0], never shown
        verdict = "confirm" if sid in (g_members[0], *alone_members) else "reject"
        if sid == g_members[0]:
            session.decide_group(verdict)  # propagated to 3 members, one outside the plan
        else:
            session.decide(verdict)  # alone_members[0] alone: alone_members[1] comes back
        judged[sid] = verdict
    assert alone_members[1] in judged and not set(g_members[1:]) & set(judged)
    assert len(judged) == 20 - 2

    row = compute_stats(audit, plan="round1").precision[0]
    confirmed = sum(v == "confirm" for v in judged.values())
    assert (row["judged"], row["confirmed"]) == (len(judged), confirmed) == (18, 3)
    # One stratum: the design-based precision is the share confirmed among the judged.
    assert row["precision"] == pytest.approx(confirmed / len(judged))
