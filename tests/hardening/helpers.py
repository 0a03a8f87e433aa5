"""Running the CLI and checking its one-line errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from reviewer.cli import main


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """A refusal: non-zero exit, no traceback, one ``error:`` line naming the problem."""
    assert result.exit_code not in (0, 1) or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
