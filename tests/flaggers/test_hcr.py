"""Hate content rate: counts, intervals and dataset comparisons against published numbers."""

from __future__ import annotations

import csv
import errno
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from conftest import Cli, sample_rows

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.flaggers.runner import run_flagger
from reviewer.stats.hcr import cohens_d, conservative_order, hcr_rows, t_tests
from reviewer.stats.intervals import proportion_ci

Build = Callable[[list[dict[str, Any]]], Audit]


def hate(
    p_hateful: list[float | None],
    p_targeted: list[float | None] | None = None,
    p_aggressive: list[float | None] | None = None,
) -> pa.Table:
    zeros = [0.0] * len(p_hateful)
    return pa.table(
        {
            "p_hateful": pa.array(p_hateful, pa.float64()),
            "p_targeted": pa.array(p_targeted or zeros, pa.float64()),
            "p_aggressive": pa.array(p_aggressive or zeros, pa.float64()),
        }
    )


def test_hcr_of_3_in_10_with_published_intervals() -> None:
    # 3 of 10 captions above 0.5. Wilson 95 %: 0.1078-0.6032 (Newcombe 1998 method 3);
    # Clopper-Pearson 95 %: 0.0667-0.6525 (exact binomial tables).
    scores = hate([0.9, 0.51, 0.7, 0.1, 0.2, 0.3, 0.4, 0.49, 0.0, 0.5])
    rows = {r.type: r for r in hcr_rows(scores, 0.5)}
    hateful = rows["hateful"]
    assert (hateful.wilson.k, hateful.wilson.n) == (3, 10)
    assert hateful.wilson.low == pytest.approx(0.1078, abs=5e-4)
    assert hateful.wilson.high == pytest.approx(0.6032, abs=5e-4)
    assert hateful.clopper_pearson.low == pytest.approx(0.0667, abs=5e-4)
    assert hateful.clopper_pearson.high == pytest.approx(0.6525, abs=5e-4)


def test_a_caption_exactly_at_the_threshold_is_not_counted() -> None:
    """Strictly above, as pysentimiento labels (``p > 0.5``) and the 2023 audit counted."""
    scores = hate([0.5, 0.5000001], [0.5, 0.0], [0.5, 0.0])
    rows = {r.type: (r.wilson.k, r.wilson.n) for r in hcr_rows(scores, 0.5)}
    assert rows == {"hateful": (1, 2), "targeted": (0, 2), "aggressive": (0, 2), "any": (1, 2)}


def test_any_of_three_and_unscored_captions() -> None:
    scores = hate(
        [0.9, 0.1, 0.1, None, 0.1],
        [0.1, 0.6, 0.1, None, None],
        [0.1, 0.1, 0.2, None, 0.8],
    )
    rows = {r.type: (r.wilson.k, r.wilson.n) for r in hcr_rows(scores, 0.5)}
    # Row 4 is unscored (all NULL) and leaves every denominator; row 5 is scored.
    assert rows == {"hateful": (1, 4), "targeted": (1, 3), "aggressive": (1, 4), "any": (3, 4)}


def test_t_tests_match_the_published_welch_examples() -> None:
    # Worked examples of Wikipedia, "Welch's t-test" (examples 1 and 2).
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    one = t_tests(np.array(a1), np.array(a2))
    assert one["student_t"] == pytest.approx(-2.46, abs=0.005)
    assert one["student_p"] == pytest.approx(0.021, abs=0.001)
    assert one["welch_t"] == pytest.approx(-2.46, abs=0.005)
    assert one["welch_df"] == pytest.approx(25.0, abs=0.05)
    assert one["welch_p"] == pytest.approx(0.021, abs=0.001)
    b1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8]
    b2 = [
        21.5,
        22.8,
        21.0,
        23.0,
        21.6,
        23.6,
        22.5,
        20.7,
        23.4,
        21.8,
        20.7,
        21.7,
        21.5,
        22.5,
        23.6,
        21.5,
        22.5,
        23.5,
        21.5,
        21.8,
    ]
    two = t_tests(np.array(b1), np.array(b2))
    assert two["student_t"] == pytest.approx(-2.10, abs=0.005)
    assert two["student_p"] == pytest.approx(0.045, abs=0.001)
    assert two["welch_t"] == pytest.approx(-1.57, abs=0.005)
    assert two["welch_df"] == pytest.approx(9.9, abs=0.05)
    assert two["welch_p"] == pytest.approx(0.149, abs=0.001)


def test_cohens_d_by_hand() -> None:
    # means 4 and 2; sample variances 4 and 1; pooled = (2*4 + 2*1) / 4 = 2.5; d = 2 / sqrt(2.5)
    assert cohens_d(np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(
        2 / math.sqrt(2.5)
    )
    assert cohens_d(np.array([1.0]), np.array([1.0, 2.0])) is None
    assert t_tests(np.array([0.1, 0.1]), np.array([0.1, 0.1]))["student_t"] is None


def test_identical_constant_groups_up_to_rounding_have_no_test() -> None:
    # 0.1 + 0.2 != 0.3 in floating point: exact-zero variance checks miss this constant group
    # and reported p = 8.8e-5 and d = 1.94 for two identical groups (issue 11).
    a = np.array([0.1 + 0.2, 0.3, 0.3, 0.1 + 0.2])
    b = np.array([0.3, 0.3, 0.3, 0.3])
    assert np.var(a) > 0
    assert t_tests(a, b)["student_p"] is None and t_tests(a, b)["welch_p"] is None
    assert cohens_d(a, b) is None


def test_conservative_comparison_needs_non_overlapping_intervals() -> None:
    high, low = proportion_ci(60, 100, "clopper-pearson"), proportion_ci(20, 100, "clopper-pearson")
    close = proportion_ci(55, 100, "clopper-pearson")
    assert conservative_order(high, low) == "a > b"
    assert conservative_order(low, high) == "b > a"
    assert conservative_order(high, close) == "overlap"


def test_threshold_must_be_a_probability() -> None:
    with pytest.raises(ReviewerError, match="threshold"):
        hcr_rows(hate([0.5]), 1.5)


@pytest.fixture
def two_datasets(audit_with: Build, scripted_hate: Any) -> Audit:
    """Dataset A: 3 files with HCR 2/4, 1/4, 3/4; dataset B: 3 files with 0/4, 1/4, 0/4."""
    rows, scores = [], {}
    hits = {"A": [2, 1, 3], "B": [0, 1, 0]}
    for dataset, per_file in hits.items():
        for f, k in enumerate(per_file):
            for j in range(4):
                sid = f"{dataset}{f}{j}"
                rows.append(
                    sample_rows(
                        1, dataset=dataset, sample_id=sid, source_file=f"{dataset}-{f}.parquet"
                    )[0]
                )
                scores[sid] = {
                    "p_hateful": 0.9 if j < k else 0.1,
                    "p_targeted": 0.0,
                    "p_aggressive": 0.0,
                }
    audit = audit_with(rows)
    run_flagger(audit, scripted_hate(scores))
    return audit


def test_hcr_cli_json_compares_two_datasets(two_datasets: Audit, cli: Cli) -> None:
    result = cli("hcr", two_datasets.root, "--by", "dataset", "--json")
    assert result.code == 0, result
    data = json.loads(result.out)
    rates = {(r["group"], r["type"]): (r["k"], r["n"]) for r in data["hcr"]}
    assert rates[("A", "hateful")] == (6, 12) and rates[("B", "any")] == (1, 12)
    [hateful] = [c for c in data["comparison"] if c["type"] == "hateful"]
    # per-file HCR A = .5, .25, .75 (mean .5, var .0625); B = 0, .25, 0 (mean 1/12, var 1/48)
    pooled = (2 * 0.0625 + 2 / 48) / 4
    assert hateful["mean_a"] == pytest.approx(0.5)
    assert hateful["mean_b"] == pytest.approx(1 / 12)
    assert hateful["cohens_d"] == pytest.approx((0.5 - 1 / 12) / math.sqrt(pooled))
    assert hateful["student_t"] == pytest.approx((0.5 - 1 / 12) / math.sqrt(pooled * 2 / 3))
    assert hateful["conservative"] == "overlap"  # 6/12 vs 1/12: CP intervals still overlap


def test_hcr_cli_writes_the_curve_csv_and_plots(
    two_datasets: Audit, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "curve.csv"
    result = cli("hcr", two_datasets.root, "--csv", out)
    assert result.code == 0, result
    assert "HCR (any of three) by threshold" in result.out
    assert "Comparison A" in result.out
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9 * 4  # nine thresholds x four types, one group
    hateful = {r["threshold"]: (r["k"], r["n"]) for r in rows if r["type"] == "hateful"}
    assert hateful["0.8"] == ("7", "24")
    assert hateful["0.9"] == ("0", "24")  # a score of 0.9 is not above 0.9


def test_hcr_csv_on_a_full_disk_keeps_the_previous_curve(
    two_datasets: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    out = tmp_path / "curve.csv"
    out.write_text("the previous curve\n", encoding="utf-8")
    real_open = Path.open

    def full_disk_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)  # created or truncated, then:
        if "w" in mode:

            def write(_: str) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

            handle.write = write
        return handle

    monkeypatch.setattr(Path, "open", full_disk_open)
    result = cli("hcr", two_datasets.root, "--csv", out)
    monkeypatch.undo()
    assert result.code == 2 and "Traceback" not in result.err, result
    assert f"{out}: cannot write the CSV (No space left on device)" in result.err
    assert out.read_text(encoding="utf-8") == "the previous curve\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_hcr_cli_without_hate_scores_says_what_to_run(audit: Audit, cli: Cli) -> None:
    result = cli("hcr", audit.root)
    assert result.code != 0
    assert "reviewer flag" in result.err and "--flagger hate" in result.err


def test_hcr_cli_by_source_file(two_datasets: Audit, cli: Cli) -> None:
    result = cli("hcr", two_datasets.root, "--by", "source_file", "--json", "--threshold", "0.5")
    assert result.code == 0, result
    data = json.loads(result.out)
    rates = {r["group"]: (r["k"], r["n"]) for r in data["hcr"] if r["type"] == "hateful"}
    assert rates == {
        "A-0.parquet": (2, 4),
        "A-1.parquet": (1, 4),
        "A-2.parquet": (3, 4),
        "B-0.parquet": (0, 4),
        "B-1.parquet": (1, 4),
        "B-2.parquet": (0, 4),
    }
    for compare, message in [
        ("A", "give two different dataset names"),
        ("A,A", "give two different dataset names"),
        ("A,C", "no hate scores for dataset 'C' — datasets with hate scores: A, B"),
    ]:
        bad = cli("hcr", two_datasets.root, "--compare", compare)
        assert bad.code == 2 and message in bad.err, bad


def test_notebook_api_gives_the_same_numbers(two_datasets: Audit) -> None:
    """A researcher in a notebook: HCR by dataset, the curve, and the comparison."""
    from reviewer.api import AuditHandle

    handle = AuditHandle(two_datasets)
    rates = handle.hcr(by="dataset").set_index(["group", "type"])
    assert (rates.loc[("A", "hateful"), "k"], rates.loc[("A", "hateful"), "n"]) == (6, 12)
    assert rates.loc[("B", "any"), "k"] == 1
    curve = handle.hcr_curve()
    assert len(curve) == 9 * 4 and set(curve["group"]) == {"all"}
    hateful = handle.compare_hcr("A", "B").set_index("type").loc["hateful"]
    pooled = (2 * 0.0625 + 2 / 48) / 4  # per-file HCRs A = .5, .25, .75; B = 0, .25, 0
    assert hateful["cohens_d"] == pytest.approx((0.5 - 1 / 12) / math.sqrt(pooled))
    assert hateful["conservative"] == "overlap"
    with pytest.raises(ReviewerError, match="threshold"):
        handle.hcr(threshold=2)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), Table I, method 4 (score with continuity correction).
    (81, 263, 0.2535, 0.3682), (15, 148, 0.0598, 0.1644), (0, 20, 0.0, 0.2005),
    (1, 29, 0.0018, 0.1963), (29, 29, 0.8544, 1.0),
])
def test_wilson_with_continuity_correction_matches_newcombe(
    k: int, n: int, low: float, high: float
) -> None:
    ci = proportion_ci(k, n, "wilson-cc")
    assert ci.low == pytest.approx(low, abs=5e-5)
    assert ci.high == pytest.approx(high, abs=5e-5)
