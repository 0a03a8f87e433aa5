"""Wide exports of the fixture audit: consensus columns, flag columns, every filter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewer.audit import Audit
from tests.export.helpers import by_id, ids, read_rows, run

# sample -> (nsfw_verdict, nsfw_n_reviewers, nsfw_agreement, hate_verdict, privacy_verdict)
EXPECTED_MAJORITY = {
    "s00000": ("confirm", 2, 1.0, None, None),
    "s00001": ("unsure", 2, 0.0, None, None),
    "s00002": ("reject", 3, 2 / 3, None, None),
    "s00003": ("skip", 1, 1.0, None, None),
    "s00005": ("reject", 1, 1.0, "confirm", None),
    "s00006": ("unsure", 2, 1.0, None, None),
    "s00007": ("reject", 1, 1.0, None, None),
    "s00008": (None, 0, None, None, "confirm"),
    "s00009": (None, 0, None, None, None),
}


def test_wide_export_has_one_row_per_visible_sample_with_known_labels(
    fx: Audit, tmp_path: Path
) -> None:
    rows = by_id(read_rows(run(fx, tmp_path).path))
    got = {
        sid: (
            r["nsfw_verdict"],
            r["nsfw_n_reviewers"],
            r["nsfw_agreement"],
            r["hate_verdict"],
            r["privacy_verdict"],
        )
        for sid, r in rows.items()
    }
    assert got.keys() == EXPECTED_MAJORITY.keys()
    for sid, expected in EXPECTED_MAJORITY.items():
        assert got[sid][:2] == expected[:2], sid
        assert got[sid][2] == pytest.approx(expected[2]), sid
        assert got[sid][3:] == expected[3:], sid
    assert rows["s00005"]["hate_n_reviewers"] == 1
    assert rows["s00008"]["privacy_agreement"] == 1.0


def test_wide_export_carries_metadata_and_flags(fx: Audit, tmp_path: Path) -> None:
    rows = by_id(read_rows(run(fx, tmp_path).path))
    s2 = rows["s00002"]
    assert (s2["url"], s2["dataset"], s2["source_file"], s2["source_row"]) == (
        "https://example.org/img/2.jpg",
        "laion400m",
        "fixture.parquet",
        2,
    )
    assert s2["extra_note"] == "meta-s00002"
    assert s2["nsfw"] == "NSFW"
    assert (s2["flag_keyword"], s2["flag_nsfw_field"], s2["flag_nsfw_field_unsure"]) == (
        True,
        True,
        False,
    )
    assert s2["flag_reasons"] == 'keyword: "forbidden" in caption; NSFW field: NSFW'
    assert rows["s00009"]["flag_keyword"] is False
    assert rows["s00009"]["flag_reasons"] is None
    assert rows["s00009"]["hash"] == "abc123"
    assert rows["s00001"]["flag_nsfw_field_unsure"] is True


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "unanimous",
            {
                "s00000": ("confirm", 1.0),
                "s00001": ("unsure", 0.0),
                "s00002": ("unsure", 0.0),
                "s00003": ("skip", 1.0),
                "s00006": ("unsure", 1.0),
                "s00007": ("reject", 1.0),
            },
        ),
        (
            "any",
            {
                "s00000": ("confirm", 1.0),
                "s00001": ("confirm", 0.5),
                "s00002": ("confirm", 1 / 3),
                "s00003": ("skip", 1.0),
                "s00006": ("unsure", 1.0),
                "s00007": ("reject", 1.0),
            },
        ),
    ],
)
def test_consensus_rules(
    fx: Audit, tmp_path: Path, rule: str, expected: dict[str, tuple[str, float]]
) -> None:
    rows = by_id(read_rows(run(fx, tmp_path, consensus=rule).path))
    for sid, (verdict, agreement) in expected.items():
        assert rows[sid]["nsfw_verdict"] == verdict, sid
        assert rows[sid]["nsfw_agreement"] == pytest.approx(agreement), sid


def test_majority_tie_is_unsure_and_skip_abstains(fx: Audit, tmp_path: Path) -> None:
    rows = by_id(read_rows(run(fx, tmp_path).path))
    assert rows["s00001"]["nsfw_verdict"] == "unsure"  # 1 confirm vs 1 reject
    assert rows["s00006"]["nsfw_verdict"] == "unsure"  # ana unsure, bob skipped
    assert rows["s00006"]["nsfw_n_reviewers"] == 2


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {},
            [
                "s00000",
                "s00001",
                "s00002",
                "s00003",
                "s00005",
                "s00006",
                "s00007",
                "s00008",
                "s00009",
            ],
        ),
        (
            {"labelled": True},
            ["s00000", "s00001", "s00002", "s00003", "s00005", "s00006", "s00007", "s00008"],
        ),
        ({"verdict": "confirm"}, ["s00000", "s00005", "s00008"]),
        ({"verdict": "confirm", "category": "nsfw"}, ["s00000"]),
        ({"verdict": "reject"}, ["s00002", "s00005", "s00007"]),
        ({"verdict": "unsure"}, ["s00001", "s00006"]),
        ({"verdict": "skip"}, ["s00003"]),
        (
            {"verdict": "confirm", "consensus": "any", "category": "nsfw"},
            ["s00000", "s00001", "s00002"],
        ),
        ({"category": "hate"}, ["s00005"]),
        ({"labelled": True, "category": "privacy"}, ["s00008"]),
        ({"flagged_by": ("keyword",)}, ["s00000", "s00002", "s00008"]),
        (
            {"not_flagged_by": ("keyword",)},
            ["s00001", "s00003", "s00005", "s00006", "s00007", "s00009"],
        ),
        ({"flagged_by": ("nsfw-field",)}, ["s00001", "s00002", "s00005", "s00007", "s00008"]),
        ({"flagged_by": ("nsfw_field_unsure",)}, ["s00001", "s00007"]),
        ({"flagged_by": ("keyword", "nsfw_field")}, ["s00002", "s00008"]),
        (
            {"flagged_by": ("nsfw_field",), "not_flagged_by": ("keyword",)},
            ["s00001", "s00005", "s00007"],
        ),
        ({"disagreements": True}, ["s00001", "s00002", "s00005", "s00007"]),
        ({"disagreements": True, "category": "privacy"}, []),
        ({"dataset": "laion2b-en"}, ["s00009"]),
        ({"queue": "q1"}, ["s00001", "s00002", "s00008"]),
        ({"reviewer": "bob"}, ["s00000", "s00001", "s00002", "s00006", "s00008"]),
        ({"reviewer": "cy"}, ["s00002"]),
        ({"reviewer": "dan"}, []),
        (
            {"labelled": True, "flagged_by": ("keyword",), "dataset": "laion400m", "queue": "q1"},
            ["s00002", "s00008"],
        ),
    ],
)
def test_filters_select_the_known_samples(
    fx: Audit, tmp_path: Path, options: dict[str, Any], expected: list[str]
) -> None:
    assert ids(fx, tmp_path, **options) == expected


def test_flagged_subset_export_carries_every_flag_of_its_rows(fx: Audit, tmp_path: Path) -> None:
    """A --flagged-by export reads only its subset's scores; its rows must not change."""
    everything = by_id(read_rows(run(fx, tmp_path, name="all.parquet").path))
    subset = read_rows(run(fx, tmp_path, name="sub.parquet", flagged_by=("nsfw_field",)).path)
    assert [r["sample_id"] for r in subset]  # the fixture has nsfw_field flags
    for row in subset:
        assert row == everything[row["sample_id"]]
    assert {c for c in subset[0] if c.startswith("flag_")} >= {"flag_keyword", "flag_nsfw_field"}
    scratch = fx.root / "cache" / "duckdb_tmp"  # the subset's intermediate files are gone
    assert not scratch.exists() or not list(scratch.glob("export-*"))


def test_a_killed_exports_scratch_is_removed_by_the_next(fx: Audit, tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = fx.root / "cache" / "duckdb_tmp" / f"export-{dead}-abc"
    left.mkdir(parents=True)
    (left / "rows.parquet").write_bytes(b"partial")
    run(fx, tmp_path, name="sub.parquet", flagged_by=("nsfw_field",))
    assert not left.exists()
