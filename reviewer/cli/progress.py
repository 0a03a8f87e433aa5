"""Progress bars for long commands: rate and ETA, shown only when the work lasts.

The core never draws anything: it takes a ``progress(done, total)`` callback,
and this module turns that into a Rich progress bar on stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

ProgressCallback = Callable[[int, int | None], None]


@contextmanager
def progress_bar(description: str, unit: str = "rows") -> Iterator[ProgressCallback]:
    """Yield a ``progress(done, total)`` callback that draws a bar after one second.

    The bar shows done/total, percent, ``unit``/s and ETA. It is drawn on stderr
    so that ``--json`` output on stdout stays clean.
    """
    console = Console(stderr=True)
    started = time.monotonic()
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=console, transient=False, disable=not console.is_terminal)
    task = bar.add_task(description, total=None, rate="")
    shown = False

    def update(done: int, total: int | None) -> None:
        nonlocal shown
        elapsed = time.monotonic() - started
        if not shown and elapsed >= 1.0:
            bar.start()
            shown = True
        rate = f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0 else ""
        bar.update(task, completed=done, total=total, rate=rate)

    try:
        yield update
    finally:
        if shown:
            bar.stop()
