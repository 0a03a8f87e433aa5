"""Printing data to the terminal as data.

Sample ids, dataset names, reviewer names and file paths come from the data or
from other people: printed raw, an escape sequence among them would be executed
by the terminal. Every CLI line that carries such strings goes through
:func:`echo`, which makes control characters, escape sequences, zero-width and
bidi characters visible (see :mod:`reviewer.text_safety`). JSON output needs no
such care: ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import click

from reviewer.text_safety import neutralise


def echo(text: str, err: bool = False) -> None:
    """Print ``text`` with its control and invisible characters made visible."""
    click.echo(neutralise(text), err=err)
