"""Widgets of the review app, one per file.

:mod:`~reviewer.tui.widgets.renderers` is imported first, here: it must run before
anything imports textual-image (which queries the terminal on import).
"""

from reviewer.tui.widgets import renderers as renderers
