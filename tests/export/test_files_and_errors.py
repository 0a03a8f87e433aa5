"""Files: formats, sidecar, --force, atomic writes, empty results; bad input; the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.export import ExportOptions, export
from reviewer.version import __version__
from tests.conftest import Cli, SampleRows, sample_rows
from tests.export.conftest import CAPTIONS
from tests.export.helpers import by_id, read_rows, run


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl"])
def test_text_formats_match_parquet(fx: Audit, tmp_path: Path, name: str) -> None:
    reference = by_id(read_rows(run(fx, tmp_path).path))
    rows = by_id(read_rows(run(fx, tmp_path, name=name).path))
    assert rows.keys() == reference.keys()
    for sid, row in rows.items():
        assert row["text"] == reference[sid]["text"], sid
        assert (row["nsfw_verdict"] or None) == reference[sid]["nsfw_verdict"], sid
        assert str(row["nsfw_n_reviewers"]) == str(reference[sid]["nsfw_n_reviewers"]), sid
    for sid, caption in CAPTIONS.items():
        if sid in rows and caption:
            assert rows[sid]["text"] == caption, sid


def test_format_option_overrides_the_extension(fx: Audit, tmp_path: Path) -> None:
    result = run(fx, tmp_path, name="out.data", fmt="jsonl", labelled=True)
    assert result.format == "jsonl"
    assert len(read_rows(result.path)) == 8


def test_sidecar_records_how_the_export_was_made(fx: Audit, tmp_path: Path) -> None:
    clock = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # noqa: E731
    options = ExportOptions(
        out=tmp_path / "x.parquet",
        verdict="confirm",
        category="nsfw",
        consensus="any",
        flagged_by=("keyword",),
    )
    result = export(fx, options, clock=clock)
    meta = json.loads((tmp_path / "x.parquet.meta.json").read_text(encoding="utf-8"))
    assert result.sidecar == tmp_path / "x.parquet.meta.json"
    assert meta["version"] == __version__
    assert meta["created_at"] == "2026-01-02T03:04:05+00:00"
    assert meta["audit"] == str(fx.root)
    assert meta["consensus"] == "any"
    assert meta["kind"] == "wide"
    assert meta["filters"] == {"verdict": "confirm", "category": "nsfw", "flagged_by": ["keyword"]}
    assert meta["counts"] == {"rows": 2, "withheld_escalated": 1}
    assert meta["columns"][0] == {"name": "sample_id", "type": "VARCHAR"}


def test_force_never_replaces_a_pipe_or_device(fx: Audit, tmp_path: Path) -> None:
    """The output is renamed into place: that would swap a FIFO (or /dev/...) for a file."""
    fifo = tmp_path / "out.parquet"
    os.mkfifo(fifo)
    with pytest.raises(ReviewerError, match="not a regular file"):
        run(fx, tmp_path, force=True)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_refuses_to_overwrite_without_force(fx: Audit, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"precious")
    with pytest.raises(ReviewerError, match="already exists"):
        run(fx, tmp_path)
    assert target.read_bytes() == b"precious"
    target.unlink()
    (tmp_path / "out.parquet.meta.json").write_text("{}")
    with pytest.raises(ReviewerError, match=r"meta\.json: already exists"):
        run(fx, tmp_path)
    assert not target.exists()
    run(fx, tmp_path, force=True)
    assert pq.read_table(target).num_rows == 9
    assert json.loads((tmp_path / "out.parquet.meta.json").read_text())["counts"]["rows"] == 9


def test_a_failed_export_leaves_no_file(
    fx: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec, settings, target, fmt, progress=None, locate=None):
        target.write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fx.store.exports, "run", broken)
    with pytest.raises(OSError):
        run(fx, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["empty.parquet", "empty.csv"])
def test_empty_result_keeps_the_schema(fx: Audit, tmp_path: Path, name: str) -> None:
    full = run(fx, tmp_path, name="full.parquet")
    result = run(fx, tmp_path, name=name, reviewer="dan")
    assert result.empty
    if name.endswith(".parquet"):
        table = pq.read_table(result.path)
        assert table.num_rows == 0
        assert table.column_names == [c for c, _ in full.columns]
    else:
        header = result.path.read_text(encoding="utf-8").splitlines()
        assert header == [",".join(c for c, _ in full.columns)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"category": "violence"}, r"unknown category 'violence' — valid: nsfw, hate, privacy"),
        ({"flagged_by": ("clip",)}, r"flagger 'clip' has not run.*keyword \(keyword\)"),
        ({"not_flagged_by": ("hate_any",)}, r"flagger 'hate_any' has not run.*nsfw_field"),
        ({"reviewer": "zed"}, r"unknown reviewer 'zed' — known reviewers: ana, bob, cy, dan"),
        ({"queue": "q9"}, r"unknown queue 'q9' — valid: q1"),
        ({"dataset": "laion5b"}, r"unknown dataset 'laion5b' — valid: laion2b-en, laion400m"),
        ({"verdict": "maybe"}, r"unknown verdict 'maybe'"),
        ({"consensus": "loudest"}, r"unknown consensus rule 'loudest'"),
        ({"removal_list": True, "verdict": "reject"}, r"--removal-list cannot be combined"),
        ({"removal_list": True, "long": True}, r"cannot be combined with --long"),
    ],
)
def test_bad_options_name_the_valid_values(
    fx: Audit, tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ReviewerError) as info:
        run(fx, tmp_path, **options)
    assert re.search(message, info.value.one_line())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/out.parquet", "no such folder"),
        ("out.xlsx", "cannot tell the format"),
        ("afile/out.parquet", "no such folder"),
    ],
)
def test_bad_paths_are_user_errors(fx: Audit, tmp_path: Path, out: str, message: str) -> None:
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(ReviewerError, match=message):
        export(fx, ExportOptions(out=tmp_path / out))


def test_default_out_goes_to_the_audit_exports_folder(fx: Audit) -> None:
    result = export(fx, ExportOptions(removal_list=True))
    try:
        assert result.path.parent == fx.paths.exports
        assert result.path.name.startswith("removal-list-") and result.path.suffix == ".parquet"
    finally:
        result.path.unlink()
        result.sidecar.unlink()


def test_cli_exports_and_reports(fixture_audit_dir: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "sub.csv"
    res = cli(
        "export", fixture_audit_dir, "--out", out, "--verdict", "confirm", "--flagged-by", "keyword"
    )
    assert res.code == 0, res
    assert f"wrote 2 rows to {out}" in res.out
    assert "1 escalated sample(s) withheld" in res.err
    assert sorted(r["sample_id"] for r in read_rows(out)) == ["s00000", "s00008"]


def test_cli_empty_result_says_so_and_exits_zero(
    fixture_audit_dir: Path, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "none.parquet"
    res = cli("export", fixture_audit_dir, "-o", out, "--reviewer", "dan")
    assert res.code == 0, res
    assert "no samples matched: wrote an empty parquet file with the schema" in res.err
    assert out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verdict", "maybe"], "Invalid value for '--verdict'"),
        (["--consensus", "loud"], "Invalid value for '--consensus'"),
        (["--flagged-by", "clip"], "error: flagger 'clip' has not run on this audit"),
    ],
)
def test_cli_bad_input_is_one_line_and_non_zero(
    fixture_audit_dir: Path, tmp_path: Path, args: list[str], message: str, cli: Cli
) -> None:
    res = cli("export", fixture_audit_dir, "-o", tmp_path / "o.parquet", *args)
    assert res.code != 0
    assert message in res.err
    assert "Traceback" not in res.err


def test_cli_scratch_folder_that_cannot_be_made_is_one_line(
    fixture_audit_dir: Path, tmp_path: Path, cli: Cli
) -> None:
    """A flagged export writes scratch files beside DuckDB's spill files; a file where
    that folder should be is the user's one-line error, and no export is left."""
    audit = tmp_path / "audit"
    shutil.copytree(fixture_audit_dir, audit)
    spill = audit / "cache" / "duckdb_tmp"
    shutil.rmtree(spill, ignore_errors=True)
    spill.write_text("not a folder")
    out = tmp_path / "o.parquet"
    res = cli("export", audit, "-o", out, "--flagged-by", "keyword")
    assert res.code == 2
    assert "cannot hold the export's scratch files" in res.err
    assert "[database] temp_directory" in res.err
    assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_refuses_existing_file(fixture_audit_dir: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "o.parquet"
    out.write_text("x")
    res = cli("export", fixture_audit_dir, "-o", out)
    assert res.code == 2
    assert "already exists — pass --force to overwrite it" in res.err


def test_binary_columns_are_never_exported(
    audit: Audit, add_samples: Callable[[SampleRows], int], tmp_path: Path
) -> None:
    add_samples(sample_rows(3))
    with audit.store.connect(write=True) as conn:
        conn.execute("ALTER TABLE samples ADD COLUMN jpg BLOB")
        conn.execute("UPDATE samples SET jpg = '\\xFF\\xD8\\xFF'::BLOB")
    result = run(audit, tmp_path)
    table = pq.read_table(result.path)
    assert table.num_rows == 3
    assert "jpg" not in table.column_names
    assert "flag_reasons" not in table.column_names  # no flagger ran: no flag columns


def test_progress_reaches_the_end(fx: Audit, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    export(
        fx,
        ExportOptions(out=tmp_path / "p.parquet"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (100, 100)


@pytest.mark.parametrize("name", ["passes.parquet", "passes.csv", "passes.jsonl"])
def test_export_in_passes_writes_the_same_rows(fx: Audit, tmp_path: Path, name: str) -> None:
    reference = run(fx, tmp_path, name="one." + name.split(".")[1], labelled=True)
    fx.store.exports.pass_rows = 3  # 10 samples: 4 passes over hash partitions
    result = run(fx, tmp_path, name=name, labelled=True)
    key = lambda r: r["sample_id"]  # noqa: E731
    assert sorted(read_rows(result.path), key=key) == sorted(read_rows(reference.path), key=key)
    assert result.rows == reference.rows == 8
    assert result.columns == reference.columns
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [reference.path.name, reference.sidecar.name, result.path.name, result.sidecar.name]
    )
