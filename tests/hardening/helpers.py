"""Checking the CLI's one-line errors (run through the shared ``cli`` fixture)."""

from __future__ import annotations

from conftest import Ran


def assert_one_line_error(ran: Ran, *fragments: str) -> str:
    """A refusal: non-zero exit, no traceback, one ``error:`` line on stderr naming the problem."""
    assert ran.code != 0, ran
    lines = [line for line in ran.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
