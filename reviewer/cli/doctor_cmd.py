"""``reviewer doctor``: check every file of an audit, change nothing, say what to do."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError


@click.command("doctor")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor_command(directory: Path, as_json: bool) -> None:
    """Check the audit DIRECTORY: settings, audit.duckdb block checksums, labels.sqlite
    (quick_check), every score part and every local image. Nothing is changed.

    Exit status 0 when everything is sound, 3 when something needs repair.
    """
    from reviewer.doctor import diagnose

    findings = diagnose(directory)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            if finding.ok:
                echo(f"ok       {finding.part}: {finding.detail}")
            else:
                hint = f" — {finding.hint}" if finding.hint else ""
                echo(f"PROBLEM  {finding.part}: {finding.detail}{hint}")
    problems = sum(not f.ok for f in findings)
    if problems:
        raise ReviewerError(
            f"{problems} problem(s) in {directory}", "repair them as each PROBLEM line says",
            exit_code=3,
        )


COMMANDS: list[click.Command] = [doctor_command]
