"""The ``reviewer`` command line.

Each command lives in its own module and imports its heavy dependencies inside
the command function, and only the invoked command's module is imported (``flag``
imports ``flag_cmd``, not the statistics or the TUI), so a short command costs
little more than the interpreter's start-up and reviewing never imports torch.
User errors (:class:`~reviewer.errors.ReviewerError`) become one line on stderr and a
non-zero exit; anything else keeps its traceback.
"""

from __future__ import annotations

import errno
import sys
import warnings
from typing import Any

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError, ReviewerWarning, disk_full
from reviewer.version import __version__


def _os_error(exc: OSError) -> ReviewerError | None:
    """A full disk or a folder that cannot be written, as the user's one-line error."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # Arrow's write errors carry no file name: never print an empty one.
        return disk_full(str(exc.filename) if exc.filename else "")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        where = exc.filename or "a file of the audit"
        return ReviewerError(
            f"{where}: cannot write ({exc.strerror})",
            "the folder is read-only or not yours: use a writable copy of the audit for ingest,"
            " flag, sample and review; what was already saved is kept",
        )
    return None


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Reviewer warnings as one ``warning:`` line; others as Python prints them."""
    if issubclass(category, ReviewerWarning):
        echo(f"warning: {' '.join(str(message).split())}", err=True)
    else:
        _PYTHON_SHOWWARNING(message, category, filename, lineno, file, line)


_PYTHON_SHOWWARNING = warnings.showwarning


def _usage_error(exc: click.UsageError) -> None:
    """A usage error (unknown option, bad choice, missing argument) as one line, exit 2.

    Click prints three lines (usage, a "Try --help" line, the error); the error alone
    says what is wrong and the hint where to look.
    """
    where = exc.ctx.command_path if exc.ctx is not None else "reviewer"
    message = " ".join(exc.format_message().split()).rstrip(".")
    echo(f"error: {message} — see `{where} --help`", err=True)
    sys.exit(2)


_HELP_ERRORS: tuple[type[Exception], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)
"""Usage errors that mean "show the help" (a bare ``reviewer``): left to click."""


class ReviewerGroup(click.Group):
    """A click group that turns user errors into one clear line and an exit code, and
    loads each command's module only when that command is asked for."""

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``; by convention in ``<name>_cmd``, else found by loading all.

        A module may hold several commands (``sample_cmd`` has ``plan``); one the name
        does not lead to is found by loading every module, as ``--help`` does.
        """
        if cmd_name not in self.commands:
            _load(f"{cmd_name.replace('-', '_')}_cmd")
        if cmd_name not in self.commands:
            self._load_all()
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_all()
        return sorted(self.commands)

    def _load_all(self) -> None:
        for name in _command_modules():
            _load(name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _HELP_ERRORS:
            raise
        except click.UsageError as exc:
            _usage_error(exc)
            raise  # pragma: no cover - _usage_error exits

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default", ReviewerWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except _HELP_ERRORS:
            raise
        except click.UsageError as exc:
            _usage_error(exc)
        except ReviewerError as exc:
            click.echo(f"error: {exc.one_line()}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: what was already saved is kept", err=True)
            sys.exit(130)
        except OSError as exc:
            error = _os_error(exc)
            if error is None:
                raise
            click.echo(f"error: {error.one_line()}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=ReviewerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reviewer")
def main() -> None:
    """Audit web-scale image-text datasets: ingest, flag, sample, review, measure, export."""


def _command_modules() -> list[str]:
    """Every ``*_cmd`` module of this package: a new command is one module, declared once.

    The modules are found by name rather than listed here, so adding a command never
    means editing this file.
    """
    import pkgutil

    return sorted(i.name for i in pkgutil.iter_modules(__path__) if i.name.endswith("_cmd"))


_LOADED: set[str] = set()


def _load(module_name: str) -> None:
    """Import one command module (if there is one of that name) and add its ``COMMANDS``."""
    import importlib

    if module_name in _LOADED or module_name not in _command_modules():
        return
    module = importlib.import_module(f"{__name__}.{module_name}")
    for command in module.COMMANDS:
        main.add_command(command)
    _LOADED.add(module_name)
