"""PreviewCache: background decoding, prefetch, priorities, LRU bound, forget, failures."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from reviewer.errors import ImageUnavailableError
from reviewer.images.blur import RevealStep, check_safe
from reviewer.images.preview_cache import REMOVED, Preview, PreviewCache

WAIT = 10  # seconds; only a safety net against hangs, never reached when things work


def sample(i: int | str) -> dict[str, Any]:
    sid = i if isinstance(i, str) else f"s{i:03d}"
    return {"sample_id": sid, "url": f"https://example.org/{sid}.jpg", "image_ref": None}


class FakeLoader:
    """Stands in for resolve.load_image: records calls, can block, can fail per sample."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Condition()
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.failures: dict[str, BaseException] = {}
        self.before_return: Callable[[str], None] | None = None
        self.slow: set[str] | None = None
        """Samples that wait for ``gate``; None means all of them."""

    def wait_calls(self, count: int) -> list[str]:
        """Block until ``count`` loads have started; the calls in order."""
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.calls) >= count, WAIT)
            return list(self.calls)

    def __call__(self, audit: Any, sample: dict[str, Any]) -> Image.Image:
        sid = sample["sample_id"]
        with self.lock:
            self.calls.append(sid)
            self.lock.notify_all()
        if self.slow is None or sid in self.slow:
            self.started.set()
            assert self.gate.wait(WAIT)
        if self.before_return:
            self.before_return(sid)
        if sid in self.failures:
            raise self.failures[sid]
        return Image.new("RGB", (640, 480), (len(self.calls) * 7 % 255, 90, 30))


@pytest.fixture
def loader() -> FakeLoader:
    return FakeLoader()


@pytest.fixture
def cache(audit, loader) -> Iterator[PreviewCache]:
    c = PreviewCache(audit, max_items=64, workers=2, loader=loader)
    yield c
    loader.gate.set()
    c.close(wait=True)


def test_request_completes_with_a_safe_blurred_preview(cache):
    preview = cache.request(sample(1), RevealStep.HEAVY).result(WAIT)
    assert isinstance(preview, Preview)
    assert (preview.sample_id, preview.step, preview.status) == ("s001", RevealStep.HEAVY, "")
    assert preview.image.mode == "L" and max(preview.image.size) == 256
    check_safe(preview.image, RevealStep.HEAVY)


def test_hidden_needs_no_decoding(cache, loader):
    preview = cache.request(sample(1), RevealStep.HIDDEN).result(0)
    assert preview.image is None and preview.status == ""
    assert cache.get("s001", RevealStep.HIDDEN).image is None
    assert loader.calls == []


def test_prefetch_returns_at_once_and_get_finds_the_result_later(cache, loader):
    loader.gate.clear()
    cache.prefetch([sample(1), sample(2)], RevealStep.HEAVY)  # returns although decoding blocks
    assert cache.get("s001", RevealStep.HEAVY) is None
    loader.gate.set()
    cache.request(sample(1), RevealStep.HEAVY).result(WAIT)
    cache.request(sample(2), RevealStep.HEAVY).result(WAIT)
    assert cache.get("s001", RevealStep.HEAVY).image is not None
    assert cache.get("s002", RevealStep.HEAVY).image is not None
    assert sorted(loader.calls) == ["s001", "s002"]  # request reused the prefetch


def test_each_step_decodes_once(cache, loader):
    for step in (RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL, RevealStep.HEAVY):
        preview = cache.request(sample(5), step).result(WAIT)
        check_safe(preview.image, step)
    assert loader.calls == ["s005"]
    assert cache.get("s005", RevealStep.FULL).image.mode == "RGB"


def test_item_on_screen_never_waits_behind_a_stuck_prefetch(audit, loader):
    loader.gate.clear()
    loader.slow = {"s001"}  # a URL that takes its full timeout
    with PreviewCache(audit, workers=1, loader=loader) as cache:
        cache.prefetch([sample(1), sample(2)], RevealStep.HEAVY)
        assert loader.started.wait(WAIT)  # the only prefetch thread is stuck on s001
        shown = cache.request(sample(5), RevealStep.HEAVY).result(WAIT)
        assert shown.image is not None and not loader.gate.is_set()
        # a queued prefetch the reviewer reaches is promoted to the urgent thread
        promoted = cache.request(sample(2), RevealStep.HEAVY).result(WAIT)
        assert promoted.image is not None and not loader.gate.is_set()
        loader.gate.set()
    assert loader.calls.count("s002") == 1


def test_prefetches_run_nearest_first(audit, loader):
    loader.gate.clear()
    loader.slow = {"s000"}
    with PreviewCache(audit, workers=1, loader=loader) as cache:
        cache.prefetch([sample(0)], RevealStep.HEAVY)
        assert loader.started.wait(WAIT)
        cache.prefetch([sample(0), *(sample(i) for i in (3, 1, 2))], RevealStep.HEAVY)
        loader.gate.set()
        assert loader.wait_calls(4) == ["s000", "s003", "s001", "s002"]


def test_prefetching_elsewhere_drops_queued_prefetches(audit, loader):
    loader.gate.clear()
    loader.slow = {"s000"}
    with PreviewCache(audit, workers=1, loader=loader) as cache:
        cache.prefetch([sample(0), sample(1), sample(2)], RevealStep.HEAVY)
        assert loader.started.wait(WAIT)
        cache.prefetch([sample(7)], RevealStep.HEAVY)
        loader.gate.set()
        cache.request(sample(7), RevealStep.HEAVY).result(WAIT)
    assert "s001" not in loader.calls and "s002" not in loader.calls


def test_memory_is_bounded_least_recently_used_first(audit, loader):
    with PreviewCache(audit, max_items=4, loader=loader) as cache:
        for i in range(10):
            cache.request(sample(i), RevealStep.HEAVY).result(WAIT)
            cache.get("s000", RevealStep.HEAVY)  # keep s000 recently used
            assert len(cache) <= 4
        assert cache.get("s000", RevealStep.HEAVY) is not None
        assert cache.get("s001", RevealStep.HEAVY) is None
        assert cache.get("s009", RevealStep.HEAVY) is not None


def test_unavailable_images_become_statuses(cache, loader):
    loader.failures["s404"] = ImageUnavailableError("404")
    loader.failures["sbug"] = KeyError("boom")
    missing = cache.request(sample("s404"), RevealStep.HEAVY).result(WAIT)
    assert missing.image is None and missing.status == "image unavailable (404)"
    broken = cache.request(sample("sbug"), RevealStep.LIGHT).result(WAIT)
    assert broken.image is None and broken.status == "image unavailable (error: KeyError)"


def _pil_loader(data: dict[str, bytes]) -> Callable[[Any, dict[str, Any]], Image.Image]:
    def load(audit: Any, sample: dict[str, Any]) -> Image.Image:
        image = Image.open(io.BytesIO(data[sample["sample_id"]]))
        image.load()
        return image

    return load


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size).save(out, format="PNG")
    return out.getvalue()


def test_real_pillow_failures_become_statuses(audit, monkeypatch):
    # load_image (the ingest work) turns these into ImageUnavailableError; this checks
    # that Pillow's own exceptions are caught too, should any slip through.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    good = _png((20, 20))
    data = {
        "bomb": _png((200, 200)),  # 40k pixels > 2 * MAX_IMAGE_PIXELS: DecompressionBombError
        "garbage": b"this is not an image at all",
        "truncated": good[: len(good) // 2],
        "good": good,
    }
    with PreviewCache(audit, loader=_pil_loader(data)) as cache:
        got = {sid: cache.request(sample(sid), RevealStep.HEAVY).result(WAIT) for sid in data}
    assert got["bomb"].status == "image unavailable (too large)"
    assert got["garbage"].status == "image unavailable (corrupt)"
    assert got["truncated"].status == "image unavailable (corrupt)"
    assert got["good"].status == "" and got["good"].image is not None


def test_forget_deletes_cached_files_of_that_sample_only(cache, audit):
    folder = audit.paths.images_cache
    (folder / "ab").mkdir()
    doomed = [folder / "s001.jpg", folder / "s001", folder / "ab" / "s001.webp"]
    kept = [folder / "s0011.jpg", folder / "s002.jpg", folder / "xs001.jpg"]
    for path in doomed + kept:
        path.write_bytes(b"x")
    cache.request(sample(1), RevealStep.HEAVY).result(WAIT)
    cache.forget("s001")
    assert [p for p in doomed if p.exists()] == []
    assert all(p.exists() for p in kept)
    assert cache.get("s001", RevealStep.HEAVY) is None
    again = cache.request(sample(1), RevealStep.HEAVY).result(WAIT)
    assert again.image is None and again.status == REMOVED


def test_forget_during_a_fetch_deletes_what_the_fetch_wrote(cache, audit, loader):
    target = audit.paths.images_cache / "s003.jpg"
    loader.gate.clear()
    loader.before_return = lambda sid: target.write_bytes(b"fetched")
    pending = cache.request(sample(3), RevealStep.HEAVY)
    assert loader.started.wait(WAIT)
    cache.forget("s003")
    assert pending.result(WAIT).status == REMOVED  # the waiting UI is told at once
    loader.gate.set()
    cache.close(wait=True)  # the decode job has finished: it must have cleaned up
    assert not target.exists()


def test_hostile_sample_ids_cannot_reach_outside_the_cache(cache, audit):
    outside = audit.paths.root / "reviewer.toml"
    cache.forget("../reviewer.toml")
    cache.forget("..")
    cache.forget("*")
    assert outside.exists()


def test_concurrent_requests_from_many_threads(audit, loader):
    steps = [RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL, RevealStep.HIDDEN]
    with PreviewCache(audit, max_items=100, workers=2, loader=loader) as cache:

        def hammer(t: int) -> list[tuple[str, RevealStep, Preview]]:
            out = []
            for k in range(40):
                sid, step = f"s{(t * 7 + k) % 12:03d}", steps[(t + k) % 4]
                out.append((sid, step, cache.request(sample(sid), step).result(WAIT)))
                cache.prefetch([sample(f"s{(k + 1) % 12:03d}")], RevealStep.HEAVY)
            return out

        with ThreadPoolExecutor(8) as pool:
            results = [r for chunk in pool.map(hammer, range(8)) for r in chunk]
    assert len(results) == 320
    for sid, step, preview in results:
        assert (preview.sample_id, preview.step) == (sid, step)
        if step is RevealStep.HIDDEN:
            assert preview.image is None
        else:
            check_safe(preview.image, step)
    assert sorted(set(loader.calls)) == sorted(loader.calls)  # one decode per sample


def test_close_resolves_pending_requests(audit, loader):
    loader.gate.clear()
    cache = PreviewCache(audit, workers=1, loader=loader)
    cache.request(sample(0), RevealStep.HEAVY)
    assert loader.started.wait(WAIT)  # the urgent thread is busy: s001 stays queued
    queued = cache.request(sample(1), RevealStep.HEAVY)
    cache.close()
    assert queued.result(WAIT).status == REMOVED
    loader.gate.set()
    assert cache.request(sample(2), RevealStep.HEAVY).result(WAIT).status == REMOVED
