"""`reviewer flag` from the command line: runs, summaries, and clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, sample_rows

from reviewer.audit import Audit
from reviewer.flaggers.registry import FLAGGERS
from reviewer.store.runs import COMPLETE, list_runs

Build = Callable[[list[dict[str, Any]]], Audit]


def test_flag_keyword_reports_counts(audit_with: Build, cli: Cli) -> None:
    rows = sample_rows(3)
    rows[0]["text"] = "Essex"
    audit = audit_with(rows)
    result = cli("flag", audit.root, "--flagger", "keyword")
    assert result.code == 0, result
    assert "keyword: 3 of 3 samples scored" in result.out
    assert "flagged: keyword 1" in result.out
    result = cli("flag", audit.root, "--flagger", "keyword", "--mode", "word")
    assert "flagged: keyword 0" in result.out


def test_custom_keyword_file(audit_with: Build, tmp_path: Path, cli: Cli) -> None:
    words = tmp_path / "words.txt"
    words.write_text("caption\n", encoding="utf-8")
    audit = audit_with(sample_rows(2))
    result = cli("flag", audit.root, "--flagger", "keyword", "--keywords", words)
    assert "flagged: keyword 2" in result.out
    [run] = list_runs(audit.paths.scores, "keyword")
    assert run.info.params["terms"] == ["caption"]


def test_flag_all_runs_what_it_can_and_skips_the_rest(
    audit_with: Build, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    # As on a machine without the ML extra: the hate module cannot be imported.
    monkeypatch.setitem(FLAGGERS, "hate", "reviewer.flaggers.not_installed:HateFlagger")
    audit = audit_with(sample_rows(3))  # and no images: clip has nothing to score
    result = cli("flag", audit.root, "--flagger", "all")
    assert result.code == 0, result
    assert "hate: skipped — flagger 'hate' is not available" in result.err
    assert "keyword: 3 of 3 samples scored" in result.out
    assert "nsfw_field: 3 of 3 samples scored" in result.out
    assert "clip: skipped" in result.err
    statuses = {r.info.flagger: r.info.status for r in list_runs(audit.paths.scores)}
    assert statuses["keyword"] == COMPLETE and statuses["nsfw_field"] == COMPLETE
    assert "clip" not in statuses


def test_unknown_flagger_is_one_line_and_lists_known(audit: Audit, cli: Cli) -> None:
    result = cli("flag", audit.root, "--flagger", "sentiment")
    assert result.code == 2
    assert "unknown flagger 'sentiment'" in result.err
    assert "keyword, nsfw-field, hate, clip, image-hash, all" in result.err
    assert "Traceback" not in result.err


def test_bad_values_are_clear_errors(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    result = cli("flag", audit.root, "--flagger", "keyword", "--batch-size", "0")
    assert result.code == 2 and "--batch-size 0" in result.err
    result = cli("flag", audit.root, "--flagger", "hate", "--threshold", "2")
    assert result.code == 2 and "--threshold" in result.err
    result = cli("flag", tmp_path / "nowhere", "--flagger", "keyword")
    assert result.code != 0 and "not an audit" in result.err
    missing = tmp_path / "missing.txt"
    result = cli("flag", audit.root, "--flagger", "keyword", "--keywords", missing)
    assert result.code == 2 and "cannot read the keyword list" in result.err


def test_flag_a_seeded_sample_of_one_dataset(audit_with: Build, cli: Cli) -> None:
    b_rows = [dict(r, sample_id=f"b{i}") for i, r in enumerate(sample_rows(3, dataset="b"))]
    audit = audit_with(sample_rows(6, dataset="a") + b_rows)
    result = cli("flag", audit.root, "--flagger", "nsfw-field", "--dataset", "a", "--sample", "4")
    assert result.code == 0, result
    assert "nsfw_field: 4 of 4 samples scored" in result.out
    result = cli("flag", audit.root, "--flagger", "nsfw-field", "--dataset", "zzz")
    assert result.code == 2 and "unknown dataset(s) zzz" in result.err
