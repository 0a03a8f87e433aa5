"""Strings from the data never reach the terminal as escape sequences through the CLI."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.errors import ReviewerError

HOSTILE = "id\x1b[2J\x1b]8;;http://x\x07evil\u202e"


def _clean(text: str) -> bool:
    return not any(c in text for c in ("\x1b", "\x07", "\u202e"))


def test_error_lines_make_control_characters_visible() -> None:
    line = ReviewerError(f"duplicate sample id {HOSTILE}", "fix it").one_line()
    assert _clean(line)
    assert "␛[2J" in line and "⟨U+202E⟩" in line


def test_ingest_warnings_and_summary_print_hostile_ids_and_names_inert(tmp_path: Path) -> None:
    source = tmp_path / "dup.parquet"
    pq.write_table(
        pa.table({
            "SAMPLE_ID": [HOSTILE, HOSTILE, "ok"],
            "URL": ["https://a/1.jpg", "https://a/2.jpg", "https://a/3.jpg"],
            "TEXT": ["one", "two", "three"],
            "NSFW": ["UNLIKELY", "UNLIKELY", "UNLIKELY"],
        }),
        source,
    )
    runner = CliRunner()
    audit = tmp_path / "audit"
    assert runner.invoke(main, ["init", str(audit)]).exit_code == 0
    result = runner.invoke(
        main, ["ingest", str(audit), str(source), "--dataset", "laion\x1b[31mred"]
    )
    assert result.exit_code == 0, result.output
    assert "duplicate sample_id" in result.stderr  # the warning names the id, inert
    assert _clean(result.output) and _clean(result.stderr)
    info = runner.invoke(main, ["info", str(audit)])
    assert info.exit_code == 0
    assert _clean(info.output) and "laion␛[31mred" in info.output
