"""Strings from the data never reach the terminal as escape sequences through the CLI."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reviewer.errors import ReviewerError
from tests.conftest import Cli

HOSTILE = "id\x1b[2J\x1b]8;;http://x\x07evil\u202e"


def _clean(text: str) -> bool:
    return not any(c in text for c in ("\x1b", "\x07", "\u202e"))


def test_error_lines_make_control_characters_visible() -> None:
    line = ReviewerError(f"duplicate sample id {HOSTILE}", "fix it").one_line()
    assert _clean(line)
    assert "␛[2J" in line and "⟨U+202E⟩" in line


def test_ingest_warnings_and_summary_print_hostile_ids_and_names_inert(
    tmp_path: Path, cli: Cli
) -> None:
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
    audit = tmp_path / "audit"
    assert cli("init", audit).code == 0
    result = cli("ingest", audit, source, "--dataset", "laion\x1b[31mred")
    assert result.code == 0, result
    assert "duplicate sample_id" in result.err  # the warning names the id, inert
    assert _clean(result.out) and _clean(result.err)
    info = cli("info", audit)
    assert info.code == 0
    assert _clean(info.out) and "laion␛[31mred" in info.out
