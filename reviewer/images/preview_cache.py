"""Decode, shrink and blur images off the UI thread, ahead of the reviewer.

Navigation must never wait on Pillow or the network, so the TUI asks this cache
for the preview of the current item (``request``, high priority) and of the next
few (``prefetch``, low priority). Work runs in a few worker threads: the item on
screen is decoded on a thread of its own, so it never waits behind a prefetch
stuck on a slow URL; prefetches share ``workers`` threads, nearest item first.

- a *decode* job resolves and decodes the image (``resolve.load_image``), shrinks
  it to ``preview_px`` at once and drops the full-size pixels; the downscaled
  copy (the only unblurred pixels kept) lives in memory only, never on disk;
- each requested step is then made by :func:`reviewer.images.blur.safe_preview`
  from that copy; steps asked for later run on a separate thread, so a reveal is
  not stuck behind a slow URL fetch.

Memory is bounded: at most ``max_items`` samples are kept, least recently used
first out. Failures never raise into the UI: they become a :class:`Preview` whose
``status`` says why ("image unavailable (404)"). ``forget`` (escalation) drops a
sample from memory and deletes its files from the audit's image cache.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from reviewer.errors import ImageUnavailableError
from reviewer.images.blur import RevealStep, default_step, downscale, safe_preview
from reviewer.images.fetch import NOT_REVEALED
from reviewer.images.purge import purge_cached_images

if TYPE_CHECKING:
    from reviewer.audit import Audit

log = logging.getLogger(__name__)

Loader = Callable[["Audit", dict[str, Any]], Image.Image]

LOADING = "loading image…"
"""Status text for an image still being fetched or decoded."""
REMOVED = "image removed"
"""Status of a sample dropped from the cache before it was ready, or forgotten (escalated)."""
_FOREGROUND, _PREFETCH = 0, 1


@dataclass(frozen=True)
class Preview:
    """What the image panel may show for one sample at one reveal step.

    Attributes:
        sample_id: The sample.
        step: The reveal step ``image`` was made for.
        image: Pixels from :func:`safe_preview` for exactly ``step``, or None
            (hidden, or unavailable).
        status: ``""`` when fine, else a short reason for the reviewer, e.g.
            ``"image unavailable (404)"``.
    """

    sample_id: str
    step: RevealStep
    image: Image.Image | None = field(default=None, compare=False, repr=False)
    status: str = ""


@dataclass
class _Entry:
    """One sample's decode state and its per-step previews (guarded by the cache lock)."""

    sample: dict[str, Any]
    state: str = "queued"  # queued | running | done
    foreground: bool = False
    revealed: bool = False  # a reviewer revealed it: ``on-reveal`` may fetch its URL
    base: Image.Image | None = None
    status: str = ""
    previews: dict[RevealStep, Future[Preview]] = field(default_factory=dict)


class _Workers:
    """A few daemon threads running jobs from a priority queue (lowest first, then FIFO)."""

    def __init__(self, count: int, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], None] | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(max(1, count))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, job: Callable[[], None]) -> None:
        self._queue.put((priority, next(self._order), job))

    def close(self, wait: bool) -> None:
        for _ in self._threads:
            self._queue.put((99, next(self._order), None))
        if wait:
            for thread in self._threads:
                thread.join()

    def _run(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a bug in one job must not kill the worker
                log.exception("preview job failed")


class PreviewCache:
    """Thread-safe, bounded cache of blurred previews, filled in the background.

    Args:
        audit: The audit whose images are loaded (and whose ``cache/`` ``forget`` cleans).
        max_items: Samples kept in memory (least recently used are dropped).
        workers: Prefetch threads (decoding and fetching are I/O- and C-bound). The
            item on screen has a thread of its own, so it never waits behind a
            prefetch stuck on a slow URL.
        loader: Replaces :func:`reviewer.images.resolve.load_image` (tests, benchmarks).
    """

    def __init__(
        self,
        audit: Audit,
        max_items: int = 64,
        workers: int = 2,
        loader: Loader | None = None,
    ) -> None:
        self._audit = audit
        self._images = audit.settings.images
        self._max_items = max(1, max_items)
        self._loader = loader
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._closed = False
        self._forgotten: set[str] = set()
        self._decoders = _Workers(workers, "preview-prefetch")
        self._urgent = _Workers(1, "preview-urgent")
        self._blurrer = _Workers(1, "preview-blur")

    # -- public API -------------------------------------------------------------------

    def request(self, sample: dict[str, Any], step: RevealStep) -> Future[Preview]:
        """The preview of ``sample`` at ``step``, computed in the background if needed.

        Never blocks on decoding: the returned future completes when the preview
        is ready (at once if cached). HIDDEN needs no pixels and completes at once.
        """
        return self._want(sample, RevealStep(step), _FOREGROUND)

    def prefetch(self, samples: Iterable[dict[str, Any]], step: RevealStep) -> None:
        """Prepare ``samples`` (nearest first) at ``step`` at low priority.

        Queued prefetches of samples no longer listed are dropped, so skipping
        ahead does not leave the workers busy with items already passed.
        """
        step = RevealStep(step)
        wanted = list(samples)
        self._drop_stale_prefetches({str(s["sample_id"]) for s in wanted})
        if step is RevealStep.HIDDEN:
            return
        for sample in wanted:
            self._want(sample, step, _PREFETCH)

    def get(self, sample_id: str, step: RevealStep) -> Preview | None:
        """The preview if it is ready now, else None (never blocks, starts nothing)."""
        step = RevealStep(step)
        if step is RevealStep.HIDDEN:
            return Preview(sample_id, step)
        with self._lock:
            entry = self._entries.get(sample_id)
            future = entry.previews.get(step) if entry else None
            if entry is not None:
                self._entries.move_to_end(sample_id)
        if future is None or not future.done():
            return None
        return future.result()

    def forget(self, sample_id: str) -> None:
        """Drop ``sample_id`` from memory and delete its files in the audit's image cache.

        Used on escalation: the item must never be shown again, and its pixels
        must not linger on disk. A decode already running is discarded when it
        ends, and later requests for the sample get status ``REMOVED``, not pixels.
        """
        with self._lock:
            self._forgotten.add(sample_id)
            entry = self._entries.pop(sample_id, None)
        if entry is not None:
            self._settle(entry, REMOVED)
        self._delete_cached_files(sample_id)

    def close(self, wait: bool = False) -> None:
        """Stop the workers; pending previews resolve as unavailable.

        Args:
            wait: Join the threads (a fetch in flight may take its full timeout).
        """
        with self._lock:
            self._closed = True
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            self._settle(entry, REMOVED)
        self._decoders.close(wait)
        self._urgent.close(wait)
        self._blurrer.close(wait)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __enter__(self) -> PreviewCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scheduling -------------------------------------------------------------------

    def _want(self, sample: dict[str, Any], step: RevealStep, priority: int) -> Future[Preview]:
        sample_id = str(sample["sample_id"])
        if step is RevealStep.HIDDEN:
            return _done(Preview(sample_id, step))
        with self._lock:
            if self._closed or sample_id in self._forgotten:
                return _done(Preview(sample_id, step, status=REMOVED))
            entry = self._entries.get(sample_id)
            revealed = priority == _FOREGROUND and step > default_step(self._audit.settings)
            if entry is not None and revealed and _awaits_reveal(entry):
                self._entries.pop(sample_id)  # decode again, now allowed to fetch
                entry = None
            elif entry is not None and revealed and entry.state == "queued":
                entry.revealed = True  # read when its decode starts
            if entry is None:
                entry = _Entry(sample=_image_fields(sample), revealed=revealed)
                self._entries[sample_id] = entry
                self._evict()
                pool = self._urgent if priority == _FOREGROUND else self._decoders
                pool.submit(priority, lambda: self._decode(sample_id, entry))
            elif entry.state == "queued" and priority == _FOREGROUND and not entry.foreground:
                # promote: a second copy of the job on the urgent thread; first to run wins
                self._urgent.submit(priority, lambda: self._decode(sample_id, entry))
            self._entries.move_to_end(sample_id)
            entry.foreground = entry.foreground or priority == _FOREGROUND
            future = entry.previews.get(step)
            if future is not None:
                return future
            future = Future()
            entry.previews[step] = future
            if entry.state == "done":
                self._blurrer.submit(priority, lambda: self._derive(entry, step, future))
            return future

    def _drop_stale_prefetches(self, keep: set[str]) -> None:
        with self._lock:
            stale = [
                sid
                for sid, entry in self._entries.items()
                if entry.state == "queued" and not entry.foreground and sid not in keep
            ]
            dropped = [self._entries.pop(sid) for sid in stale]
        for entry in dropped:
            self._settle(entry, REMOVED)

    def _evict(self) -> None:
        """Drop least recently used samples beyond ``max_items`` (lock held)."""
        while len(self._entries) > self._max_items:
            _, entry = self._entries.popitem(last=False)
            self._blurrer.submit(_PREFETCH, functools.partial(self._settle, entry, REMOVED))

    # -- jobs (worker threads) ----------------------------------------------------------

    def _decode(self, sample_id: str, entry: _Entry) -> None:
        with self._lock:
            if entry.state != "queued" or self._entries.get(sample_id) is not entry:
                return
            entry.state = "running"
        base, status = self._load_base(entry.sample, entry.revealed)
        with self._lock:
            entry.base, entry.status, entry.state = base, status, "done"
            alive = self._entries.get(sample_id) is entry
            forgotten = sample_id in self._forgotten
            pending = list(entry.previews.items())
        if not alive:
            self._settle(entry, REMOVED)
            if forgotten:
                self._delete_cached_files(sample_id)  # the fetch may have written it meanwhile
            return
        for step, future in pending:
            self._derive(entry, step, future)

    def _load_base(self, sample: dict[str, Any], revealed: bool) -> tuple[Image.Image | None, str]:
        """Decode and shrink; every failure becomes a status, never an exception."""
        try:
            loader = self._loader
            if loader is None:
                from reviewer.images import resolve

                fit_px = self._images.preview_px  # JPEGs decode at a reduced scale
                loader = functools.partial(resolve.load_image, fit_px=fit_px, revealed=revealed)
            return downscale(loader(self._audit, sample), self._images.preview_px), ""
        except ImageUnavailableError as exc:
            return None, f"image unavailable ({exc.reason})"
        except (Image.DecompressionBombError, MemoryError):
            return None, "image unavailable (too large)"
        except (OSError, ValueError, SyntaxError, EOFError):
            return None, "image unavailable (corrupt)"
        except Exception as exc:
            log.exception("loading image of %s failed", sample.get("sample_id"))
            return None, f"image unavailable (error: {type(exc).__name__})"

    def _derive(self, entry: _Entry, step: RevealStep, future: Future[Preview]) -> None:
        if future.done():
            return
        sample_id = str(entry.sample["sample_id"])
        with self._lock:
            base, status = entry.base, entry.status
        if base is None:
            _resolve(future, Preview(sample_id, step, status=status or REMOVED))
            return
        try:
            image = safe_preview(base, step, self._images)
            preview = Preview(sample_id, step, image)
        except Exception as exc:
            log.exception("blurring image of %s failed", sample_id)
            preview = Preview(sample_id, step, status=f"image unavailable ({type(exc).__name__})")
        _resolve(future, preview)

    def _settle(self, entry: _Entry, status: str) -> None:
        """Resolve an entry's unfinished futures (it was dropped) and free its pixels."""
        with self._lock:
            futures = list(entry.previews.items())
            entry.base = None
        sample_id = str(entry.sample["sample_id"])
        for step, future in futures:
            _resolve(future, Preview(sample_id, step, status=status))

    # -- disk -------------------------------------------------------------------------

    def _delete_cached_files(self, sample_id: str) -> None:
        """Delete the files of ``sample_id`` under the audit's image cache."""
        purge_cached_images(Path(self._audit.paths.images_cache), [sample_id])


def _awaits_reveal(entry: _Entry) -> bool:
    """The entry was decoded before a reveal and is waiting for one to fetch its URL."""
    return entry.state == "done" and not entry.revealed and NOT_REVEALED in entry.status


def _image_fields(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample without its caption: up to 64 cached rows must not hold 1 MB captions."""
    return {key: value for key, value in sample.items() if key != "text"}


def _resolve(future: Future[Preview], preview: Preview) -> None:
    """Complete ``future`` unless another thread already did (forget vs. decode races)."""
    with contextlib.suppress(InvalidStateError):
        future.set_result(preview)


def _done(preview: Preview) -> Future[Preview]:
    future: Future[Preview] = Future()
    future.set_result(preview)
    return future


__all__ = ["LOADING", "REMOVED", "Loader", "Preview", "PreviewCache"]
