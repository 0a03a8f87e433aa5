"""Importing textual-image without letting its terminal probe write into tmux's pane title.

textual-image picks its renderer when first imported, by querying the terminal:
Sixel first, then the Kitty graphics protocol, whose query is an APC string
(``ESC _ G … ESC \\``). tmux takes an APC string as the pane's title, so the query's
bytes became the title of the reviewer's pane and stayed there after the app quit.
tmux does not pass the Kitty protocol through anyway, so inside tmux the probes are
skipped (textual-image sees no terminal while it is imported) and images are drawn
in coloured half-cell blocks, as they were there before. Everywhere else textual-image
probes as usual. Import this module before anything imports textual-image.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, cast

from textual.widget import Widget

IN_TMUX = bool(os.environ.get("TMUX"))


class _NoTerminal(io.TextIOBase):
    """Stands in for ``sys.__stdout__`` while textual-image is imported: not a tty."""

    def isatty(self) -> bool:
        return False


def _import_without_probes() -> None:
    if "textual_image.renderable" in sys.modules:
        return
    real = sys.__stdout__
    # typeshed declares sys.__stdout__ Final; it is a plain attribute at run time.
    sys.__stdout__ = cast(Any, _NoTerminal())  # type: ignore[misc]
    try:
        import textual_image.widget  # noqa: F401  (chooses its renderer now)
        from textual_image._terminal import get_cell_size
    finally:
        sys.__stdout__ = real  # type: ignore[misc]
    # The cell size was cached for "no terminal": measure the real one (ioctl, no APC).
    if hasattr(get_cell_size, "_result"):
        delattr(get_cell_size, "_result")
    get_cell_size()


if IN_TMUX:
    _import_without_probes()


def default_renderer() -> type[Widget] | None:
    """The renderer to force in this terminal, or ``None`` for textual-image's own choice."""
    if not IN_TMUX:
        return None
    from textual_image.widget import HalfcellImage

    return HalfcellImage
