"""Errors that reach the user as one clear line instead of a traceback.

Every failure caused by the user's input (a missing file, a wrong schema, an
unknown reviewer) is raised as a :class:`ReviewerError`. The CLI catches it,
prints ``error: <message> (<hint>)`` and exits non-zero. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class ReviewerError(Exception):
    """A problem with the user's input or environment, told in one line.

    Args:
        message: What is wrong, naming the thing (file, row, reviewer).
        hint: What to do about it.
        exit_code: Process exit status the CLI uses (non-zero).
    """

    def __init__(self, message: str, hint: str = "", exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def one_line(self) -> str:
        """The message and hint joined on one line, newlines flattened, and any control or
        escape characters from the data (a hostile sample id, say) made visible."""
        from reviewer.text_safety import neutralise

        text = self.message if not self.hint else f"{self.message} — {self.hint}"
        return neutralise(" ".join(text.split()))


class ReviewerWarning(UserWarning):
    """Something the user should know that does not stop the command (a damaged run.json
    left out); the CLI prints it as one ``warning:`` line, notebooks see a Python warning."""


DISK_FULL_EXIT = 28
"""Exit status for a full disk (ENOSPC), the same from every command."""


def disk_full(where: str = "") -> ReviewerError:
    """The one-line error for a full disk; ``where`` names the file, when known."""
    place = f" while writing {where}" if where else ""
    return ReviewerError(
        f"disk full{place}",
        "free space on the disk of the audit folder (and of --out) and retry;"
        " what was already saved is kept",
        exit_code=DISK_FULL_EXIT,
    )


class NotAnAuditError(ReviewerError):
    """The folder given is not an audit (no ``audit.duckdb``)."""


class SchemaError(ReviewerError):
    """An input file lacks the columns an audit needs."""


class AuditBusyError(ReviewerError):
    """Another process held the audit database longer than we were willing to wait."""


class ModelUnavailableError(ReviewerError):
    """Model weights could not be found offline."""


class ImageUnavailableError(ReviewerError):
    """An image could not be read, fetched or decoded; ``reason`` is shown to reviewers."""

    def __init__(self, reason: str, message: str = "", hint: str = "") -> None:
        super().__init__(message or f"image unavailable ({reason})", hint)
        self.reason = reason


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """The first line of an exception's message (its type's name when it has none), cut
    to ``limit`` characters: what a one-line error quotes of a library's many lines."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if limit is None else line[:limit]
