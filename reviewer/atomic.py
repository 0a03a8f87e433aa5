"""Files written whole or not at all.

A report, a CSV or ``reviewer.toml`` written in place is truncated first: a full disk
or a ``Ctrl-C`` then leaves an empty or half file behind, and an earlier good copy is
gone. Writing a temporary file beside it and renaming it over the target keeps either
the old file or the complete new one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename.

    A symlink is written through (its target is replaced, the link kept). A path
    that is not a regular file (``/dev/stdout``, a pipe) is written into directly:
    renaming over it would swap the device for a plain file.

    Raises:
        OSError: The folder is missing or not writable, or the disk is full; ``path``
            is then untouched and no temporary file is left.
    """
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return
    target = Path(os.path.realpath(path))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists, so a file named after a killed process (a staging
    folder, a temporary index, a writer's marker) can be told stale from in use.

    A process of another user counts as alive.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
