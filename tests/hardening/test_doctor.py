"""``reviewer doctor``: every damaged file found and named with its repair; nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from .conftest import snapshot
from .test_faults import a_score_part, damage_samples_block, damage_sqlite_page


def _problems(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("PROBLEM")]


def test_a_sound_audit_is_all_ok(demo: Path, cli: Cli) -> None:
    before = snapshot(demo)
    ran = cli("doctor", demo)
    assert ran.code == 0, ran
    lines = ran.out.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("ok ") for line in lines)
    assert "53 samples" in ran.out and "52 local images present" in ran.out
    assert snapshot(demo) == before


@pytest.mark.parametrize(
    ("damage", "part", "fragment"),
    [
        ("labels", "labels/labels.sqlite", "restore labels/labels.sqlite"),
        ("duckdb", "audit.duckdb", "restore audit.duckdb"),
        ("part", "part-00000.parquet", "--flagger keyword --no-resume"),
        ("run.json", "scores", "unreadable run.json"),
        ("image", "images", "local images missing"),
        ("settings", "reviewer.toml", "daily_reveal_cap = -5"),
    ],
)
def test_each_damage_is_one_problem_line_with_its_repair(
    demo: Path, cli: Cli, damage: str, part: str, fragment: str
) -> None:
    if damage == "labels":
        damage_sqlite_page(demo / "labels" / "labels.sqlite", 2)
    elif damage == "duckdb":
        damage_samples_block(demo / "audit.duckdb")
    elif damage == "part":
        a_score_part(demo).write_bytes(b"PAR1 damaged")
    elif damage == "run.json":
        next((demo / "scores" / "keyword").glob("*/run.json")).write_text("{")
    elif damage == "image":
        _remove_one_image(demo)
    else:
        settings = demo / "reviewer.toml"
        settings.write_text(settings.read_text().replace("daily_reveal_cap = 200",
                                                         "daily_reveal_cap = -5"))
    before = snapshot(demo)
    ran = cli("doctor", demo)
    assert ran.code == 3, ran
    problems = _problems(ran.out)
    assert any(part in p and fragment in p for p in problems), ran.out
    assert ran.err.startswith("error: ") and len(ran.err.strip().splitlines()) == 1
    assert snapshot(demo) == before


def _remove_one_image(demo: Path) -> None:
    """Point the audit at a private copy of its image folder, then delete one image there
    (the demo's images are the repository's own assets: never touched)."""
    import shutil

    import duckdb

    from reviewer.store.damage import image_references

    refs = image_references(demo / "audit.duckdb")
    assert refs
    _, where, member = refs[0]
    kind, _, root = where.partition(":")
    assert kind == "dir"
    private = demo.parent / "images"
    shutil.copytree(root, private)
    with duckdb.connect(str(demo / "audit.duckdb")) as conn:
        conn.execute("UPDATE image_roots SET path = ?", [str(private)])
    (private / member).unlink()


def test_json_findings(demo: Path, cli: Cli) -> None:
    ran = cli("doctor", demo, "--json")
    findings = json.loads(ran.out)
    assert ran.code == 0 and {f["part"] for f in findings} >= {"audit.duckdb", "scores"}
    assert all(f["ok"] for f in findings)
