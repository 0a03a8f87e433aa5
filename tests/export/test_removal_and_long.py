"""Removal lists, per-reviewer (long) exports, and escalated samples never leaking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from tests.export.conftest import ESCALATED, SECRET
from tests.export.helpers import read_rows, run


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["s00000", "s00004", "s00005", "s00008"]),
        ({"consensus": "unanimous"}, ["s00000", "s00004", "s00005", "s00008"]),
        ({"consensus": "any"}, ["s00000", "s00001", "s00002", "s00004", "s00005", "s00008"]),
        ({"category": "hate"}, ["s00004", "s00005"]),
        ({"flagged_by": ("keyword",)}, ["s00000", "s00004", "s00008"]),
        ({"queue": "q1"}, ["s00004", "s00008"]),
        ({"dataset": "laion2b-en"}, []),
    ],
)
def test_removal_list_holds_confirmed_and_escalated_ids(
    fx: Audit, tmp_path: Path, options: dict[str, Any], expected: list[str]
) -> None:
    result = run(fx, tmp_path, removal_list=True, **options)
    table = pq.read_table(result.path)
    assert table.column_names == ["sample_id", "url", "hash", "reason"]
    assert table.column("sample_id").to_pylist() == expected


def test_removal_list_rows_are_identifiers_only(fx: Audit, tmp_path: Path) -> None:
    result = run(fx, tmp_path, name="removal.csv", removal_list=True)
    rows = {r["sample_id"]: r for r in read_rows(result.path)}
    assert rows[ESCALATED] == {
        "sample_id": ESCALATED,
        "url": "https://example.org/img/4.jpg",
        "hash": "esc999",
        "reason": "escalated",
    }
    assert SECRET not in result.path.read_text(encoding="utf-8")


def _all_exports(fx: Audit, tmp_path: Path) -> list[Path]:
    """Every non-removal export shape, in every format, with filters that select s00004."""
    paths = []
    shapes: list[tuple[str, dict[str, Any]]] = [
        ("wide.parquet", {}),
        ("wide.csv", {}),
        ("wide.jsonl", {}),
        ("labelled.parquet", {"labelled": True}),
        ("confirm.csv", {"verdict": "confirm", "category": "nsfw"}),
        ("queue.jsonl", {"queue": "q1"}),
        ("ana.parquet", {"reviewer": "ana"}),
        ("flagged.csv", {"flagged_by": ("nsfw_field_unsure",)}),
        ("long.parquet", {"long": True}),
        ("long.csv", {"long": True}),
        ("long-ana.jsonl", {"long": True, "reviewer": "ana"}),
    ]
    for i, (name, options) in enumerate(shapes):
        paths.append(run(fx, tmp_path, name=f"{i}-{name}", **options).path)
    return paths


def test_escalated_samples_never_appear_outside_removal_lists(fx: Audit, tmp_path: Path) -> None:
    paths = _all_exports(fx, tmp_path)
    for path in paths:
        rows = read_rows(path)
        assert ESCALATED not in {r["sample_id"] for r in rows}, path.name
        assert not any(SECRET in str(v) for r in rows for v in r.values()), path.name
        raw = path.read_bytes()
        assert SECRET.encode() not in raw, path.name
        assert ESCALATED.encode() not in raw, path.name
        assert b"esc999" not in raw, path.name


def test_long_export_has_one_row_per_decision_event(fx: Audit, tmp_path: Path) -> None:
    rows = read_rows(run(fx, tmp_path, long=True).path)
    got = [
        (r["sample_id"], r["reviewer"], r["category"], r["verdict"], r["standing"]) for r in rows
    ]
    assert got == [
        ("s00000", "ana", "nsfw", "confirm", True),
        ("s00000", "bob", "nsfw", "confirm", True),
        ("s00001", "ana", "nsfw", "confirm", True),
        ("s00001", "bob", "nsfw", "reject", True),
        ("s00002", "ana", "nsfw", "reject", True),
        ("s00002", "bob", "nsfw", "reject", True),
        ("s00002", "cy", "nsfw", "confirm", True),
        ("s00003", "ana", "nsfw", "skip", True),
        ("s00005", "ana", "nsfw", "reject", True),
        ("s00005", "ana", "hate", "confirm", True),
        ("s00006", "ana", "nsfw", "unsure", True),
        ("s00006", "bob", "nsfw", "skip", True),
        ("s00007", "ana", "nsfw", "confirm", False),
        ("s00007", "ana", "nsfw", "reject", True),
        ("s00008", "bob", "privacy", "confirm", True),
        ("s00003", "cy", "nsfw", "confirm", False),
    ]
    assert rows[0]["text"] == "forbidden fruit 🍎 emoji"
    assert {"event_id", "created_at", "reveal_depth", "review_queue"} <= rows[0].keys()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"reviewer": "cy"}, [("s00002", "confirm"), ("s00003", "confirm")]),
        (
            {"verdict": "reject", "category": "nsfw"},
            [
                ("s00001", "reject"),
                ("s00002", "reject"),
                ("s00002", "reject"),
                ("s00005", "reject"),
                ("s00007", "reject"),
            ],
        ),
        ({"category": "hate"}, [("s00005", "confirm")]),
        (
            {"queue": "q1", "reviewer": "bob"},
            [("s00001", "reject"), ("s00002", "reject"), ("s00008", "confirm")],
        ),
        ({"dataset": "laion2b-en"}, []),
    ],
)
def test_long_export_filters_events(
    fx: Audit, tmp_path: Path, options: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    rows = read_rows(run(fx, tmp_path, long=True, **options).path)
    assert [(r["sample_id"], r["verdict"]) for r in rows] == expected
