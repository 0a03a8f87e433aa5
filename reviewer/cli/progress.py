"""Progress bars for long commands: rate and ETA, shown only when the work lasts.

The core never draws anything: it takes a ``progress(done, total)`` callback,
and this module turns that into a Rich progress bar on stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

ProgressCallback = Callable[[int, int | None], None]


@contextmanager
def progress_bar(description: str, unit: str = "rows") -> Iterator[ProgressCallback]:
    """Yield a ``progress(done, total)`` callback that draws a bar after one second.

    The bar shows done/total, percent, ``unit``/s and ETA. It is drawn on stderr
    so that ``--json`` output on stdout stays clean.
    """
    started = time.monotonic()
    bar: Progress | None = None
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal bar, task
        elapsed = time.monotonic() - started
        if bar is None:
            if elapsed < 1.0:
                return
            bar = _start_bar()  # Rich only now: a short command never imports it
            task = bar.add_task(description, total=None, rate="")
        assert task is not None
        rate = f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0 else ""
        bar.update(task, completed=done, total=total, rate=rate)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()


def _start_bar() -> Progress:
    """A started Rich bar on stderr (disabled when stderr is not a terminal)."""
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

    console = Console(stderr=True)
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
    bar.start()
    return bar
