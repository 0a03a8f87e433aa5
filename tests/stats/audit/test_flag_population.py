"""Items per flag and per pair of flags, as the statistics' overlap table shows them."""

from __future__ import annotations

from collections import Counter
from itertools import combinations_with_replacement

from reviewer.audit import Audit
from reviewer.flaggers.runner import run_flagger


def test_flag_pairs_count_each_sample_once_per_pair(audit: Audit, add_samples, make_rows) -> None:  # type: ignore[no-untyped-def]
    rows = make_rows(90)
    for i, row in enumerate(rows):  # keyword hits on every 4th caption, some also in the url
        if i % 4 == 0:
            row["text"] = f"xxx porn caption {i}"
        if i % 8 == 0:
            row["url"] = f"https://adult.example/{i}.jpg"
    add_samples(rows)
    run_flagger(audit, "keyword")
    run_flagger(audit, "nsfw-field")
    flagged = audit.store.flags.table(audit.settings, only_flagged=True).to_pylist()
    raised: dict[str, set[str]] = {}
    for r in flagged:
        raised.setdefault(r["sample_id"], set()).add(r["flag"])
    expected: Counter[tuple[str, str]] = Counter()
    for flags in raised.values():  # independent count: every pair (a <= b) of each sample
        for a, b in combinations_with_replacement(sorted(flags), 2):
            expected[(a, b)] += 1
    got = audit.store.stats.flag_population(audit.settings).to_pylist()
    assert {(r["flag_a"], r["flag_b"]): r["items"] for r in got} == dict(expected)
    assert len({a for a, _ in expected}) >= 2  # more than one flag, so pairs were counted
    counts = audit.store.stats.population_counts(audit.settings)
    assert counts == {"samples": 90, "flagged": len(raised), "unflagged": 90 - len(raised)}
