"""``reviewer sample``, ``plan`` and ``stats`` from the command line, bad input included."""

from __future__ import annotations

import json

import pytest
from conftest import Cli

from reviewer.audit import Audit


@pytest.fixture
def tagged(audit: Audit, add_samples, make_rows) -> Audit:  # type: ignore[no-untyped-def]
    add_samples(make_rows(90))
    return audit


def test_sample_and_plan_commands(tagged: Audit, cli: Cli) -> None:
    code, out, err = cli("sample", tagged.root, "--name", "pilot", "--strata", "nsfw",
                         "--per-stratum", "5", "--seed", "3", "--reviewers", "ana,ben",
                         "--overlap", "2")
    assert code == 0, err
    assert "plan pilot: 15 items in 3 strata" in out
    assert "reviewer ana: 15 items" in out
    code, _, err = cli("sample", tagged.root, "--name", "pilot", "--strata", "nsfw")
    assert code == 2 and "plan 'pilot' already exists" in err
    code, out, _ = cli("plan", tagged.root, "--strata", "nsfw", "--json")
    assert code == 0
    data = json.loads(out)
    # N_h = 30: 384.15 / (1 + 383.15 / 30) = 27.9 → 28.
    assert [s["needed"] for s in data["strata"]] == [28, 28, 28]
    code, out, _ = cli("plan", tagged.root, "--strata", "nsfw", "--margin", "0.1")
    assert code == 0 and "n0 = z² p(1−p) / m²" in out and "96.04" in out


def test_stats_without_labels_says_so(tagged: Audit, cli: Cli) -> None:
    code, _, err = cli("stats", tagged.root)
    assert code == 2
    assert "error: no labels yet" in err


def test_stats_on_unknown_plan_and_missing_audit(tagged: Audit, tmp_path, label, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    label(tagged, [("s00000", "confirm")])
    code, _, err = cli("stats", tagged.root, "--plan", "nope")
    assert code == 2 and "unknown plan 'nope'" in err
    code, _, err = cli("stats", tmp_path / "nowhere")
    assert code == 2 and "not an audit" in err


def test_one_reviewer_and_identical_labels_never_print_nan(tagged: Audit, label, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    label(tagged, [(f"s{i:05d}", "reject") for i in range(12)], reviewer="ana")
    code, out, err = cli("stats", tagged.root)
    assert code == 0, err
    assert "nan" not in out.lower()
    assert "only one reviewer has binary verdicts" in out
    # One constant rater against a varying tag: κ is 0 by construction, which says nothing
    # about agreement: "uninformative", never "0.000 [0.000, 0.000]".
    assert "Cohen κ, tag ≥ UNSURE = harmful    undefined (uninformative" in out
    assert "-0.000" not in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_two_reviewers_all_identical_labels(tagged: Audit, label, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    items = [(f"s{i:05d}", "reject") for i in range(10)]
    label(tagged, items, reviewer="ana")
    label(tagged, items, reviewer="ben")
    code, out, _ = cli("stats", tagged.root, "--json")
    assert code == 0
    data = json.loads(out)
    agreement = data["agreement"]
    assert agreement["n_items"] == 10 and agreement["n_raters"] == 2
    assert agreement["overall"]["percent_agreement"]["value"] == 1.0
    kappa = agreement["pairs"][0]
    assert kappa["value"] is None and "undefined" in kappa["note"]
    text_code, text, _ = cli("stats", tagged.root)
    assert text_code == 0 and "nan" not in text.lower()


def test_stratum_with_zero_labels_is_named(tagged: Audit, label, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    code, _, _ = cli("sample", tagged.root, "--name", "p", "--strata", "nsfw", "--per-stratum", "4")
    assert code == 0
    queue = tagged.store.plans.items("p").to_pylist()
    unsure = [r["sample_id"] for r in queue if r["stratum"] == "nsfw=UNSURE"]
    label(tagged, [(s, "confirm") for s in unsure])
    _, out, _ = cli("stats", tagged.root, "--json")
    data = json.loads(out)
    assert data["prevalence"]["estimate"] == 1.0
    assert any("without labels" in n and "nsfw=NSFW" in n for n in data["prevalence"]["notes"])


def test_unsure_and_skip_are_counted_not_judged(tagged: Audit, label, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    label(tagged, [("s00002", "confirm"), ("s00005", "unsure"), ("s00008", "skip"),
                   ("s00011", "reject")])
    data = json.loads(cli("stats", tagged.root, "--json")[1])
    assert data["totals"]["verdicts"] == {"confirm": 1, "reject": 1, "unsure": 1, "skip": 1,
                                          "escalate": 0}
    nsfw = next(r for r in data["field_by_tag"] if r["tag"] == "NSFW")
    # s00002, s00005, s00008, s00011 are all tagged NSFW; only two are binary verdicts.
    assert (nsfw["confirmed"], nsfw["judged"]) == (1, 2)
    table = {r["human"]: r["NSFW"] for r in data["field_table"]}
    assert table == {"confirm": 1, "reject": 1, "unsure": 2}
