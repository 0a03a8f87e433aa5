"""Benchmark the preview pipeline: blur after downscaling, and prefetch hits vs cold decodes.

Run: ``.venv/bin/python benchmarks/bench_preview.py [--quick]``

1. Per 1024x1024 JPEG: decode + ``safe_preview(HEAVY)`` (shrink to 256 px first,
   then grayscale, pixelate, blur) against the baseline of blurring at full size
   (decode, grayscale, GaussianBlur scaled x4 so it looks the same, then shrink).
   Decoding: full size (baseline) vs what previews use, ``decode_image(fit_px=...)``
   (JPEG DCT scaling to the smallest scale that covers the preview box).
2. Through :class:`PreviewCache`: latency seen by the UI thread for an item
   already prefetched (``get``) against a cold ``request(...).result()``.
3. In a Textual app: ``ImagePanel.show`` to screen refreshed with textual-image's
   half-cell renderer against :class:`FastHalfcellImage` (what tmux users get).
Prints milliseconds and ratios; everything stays in memory.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewer.audit import Audit
from reviewer.config import ImagesSection
from reviewer.images.blur import RevealStep, downscale, safe_preview
from reviewer.images.decode import decode_image
from reviewer.images.preview_cache import PreviewCache


def make_jpegs(count: int, size: int = 1024) -> list[bytes]:
    """Photo-like JPEGs: smooth noise, shapes and text (no real content)."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        low = rng.integers(0, 256, (size // 32, size // 32, 3), dtype=np.uint8)
        image = Image.fromarray(low).resize((size, size), Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(image)
        for _ in range(30):
            x, y = rng.integers(0, size, 2)
            draw.ellipse(
                [x, y, x + 120, y + 80], fill=tuple(int(v) for v in rng.integers(0, 256, 3))
            )
        draw.text((20, 20), f"sample {i}", fill="white")
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """CPU times (this thread) of ``repeat`` calls, in milliseconds.

    Thread CPU time rather than wall time: the audit machines are shared, and
    Pillow's filters run on the calling thread, so this is what the work costs.
    """
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        times.append((time.thread_time() - start) * 1000)
    return times


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def bench_blur(jpegs: list[bytes], images: ImagesSection, repeat: int) -> None:
    """Blur after downscaling (ours) vs blur at full size (baseline)."""
    full_radius = images.heavy_blur_radius * 1024 / images.preview_px
    decoded = [decode(data) for data in jpegs]

    def baseline(image: Image.Image) -> None:
        blurred = image.convert("L").filter(ImageFilter.GaussianBlur(full_radius))
        downscale(blurred, images.preview_px)  # the same shrink as ours: only the order differs

    def ours(image: Image.Image) -> None:
        safe_preview(image, RevealStep.HEAVY, images)

    def draft_decode(data: bytes) -> Image.Image:
        return decode_image(data, images.max_pixels, fit_px=images.preview_px)

    def median(fn: Callable[[Any], Any], items: list[Any]) -> float:
        return statistics.median(t for item in items for t in timed(lambda i=item: fn(i), repeat))

    base_ms, ours_ms = median(baseline, decoded), median(ours, decoded)
    decode_ms, draft_ms = median(decode, jpegs), median(draft_decode, jpegs)
    print(f"1024² JPEG, median CPU ms over {len(jpegs)} images x {repeat}")
    print(
        f"  decode: {decode_ms:.1f} ms full size; {draft_ms:.1f} ms fitted to the preview"
        " (JPEG DCT scaling, what previews use)"
    )
    print(f"  baseline  gray + blur({full_radius:.0f}) at 1024 px, then shrink: {base_ms:6.1f} ms")
    print(
        f"  ours      shrink to {images.preview_px}, gray, pixelate,"
        f" blur({images.heavy_blur_radius:.0f}): {ours_ms:6.1f} ms"
        f"  -> {base_ms / ours_ms:.1f}x cheaper"
    )
    print(
        f"  end to end: baseline {decode_ms + base_ms:.1f} ms, ours {decode_ms + ours_ms:.1f} ms,"
        f" ours with fitted decode {draft_ms + ours_ms:.1f} ms"
        f"  -> {(decode_ms + base_ms) / (draft_ms + ours_ms):.1f}x"
    )


def bench_prefetch(jpegs: list[bytes]) -> None:
    """UI-thread latency of a prefetched item vs a cold request."""
    by_id = {f"s{i}": data for i, data in enumerate(jpegs)}

    def loader(audit: Any, sample: dict[str, Any]) -> Image.Image:
        return decode(by_id[sample["sample_id"]])

    with tempfile.TemporaryDirectory() as tmp:
        audit = Audit.init(Path(tmp) / "audit")
        try:
            ids = list(by_id)
            half = len(ids) // 2
            with PreviewCache(audit, max_items=len(ids), loader=loader) as cache:
                cold = []
                for sid in ids[:half]:
                    start = time.perf_counter()
                    cache.request({"sample_id": sid}, RevealStep.HEAVY).result()
                    cold.append((time.perf_counter() - start) * 1000)
                cache.prefetch([{"sample_id": sid} for sid in ids[half:]], RevealStep.HEAVY)
                for sid in ids[half:]:  # let the prefetch finish (the reviewer is reading)
                    cache.request({"sample_id": sid}, RevealStep.HEAVY).result()
                hits = []
                for sid in ids[half:]:
                    start = time.perf_counter()
                    assert cache.get(sid, RevealStep.HEAVY) is not None
                    hits.append((time.perf_counter() - start) * 1000)
        finally:
            audit.close()
    cold_p50, hit_p50 = statistics.median(cold), statistics.median(hits)
    cold_p95 = sorted(cold)[int(0.95 * (len(cold) - 1))]
    hit_p95 = sorted(hits)[int(0.95 * (len(hits) - 1))]
    print(f"PreviewCache, {len(ids)} items, HEAVY step, UI-thread wait per item")
    print(
        f"  cold request (decode+shrink+blur in a worker):"
        f" p50 {cold_p50:7.2f} ms  p95 {cold_p95:7.2f} ms"
    )
    print(
        f"  prefetched get():                              "
        f" p50 {hit_p50:7.3f} ms  p95 {hit_p95:7.3f} ms"
    )
    print(f"  -> prefetch hit is {cold_p50 / max(hit_p50, 1e-6):,.0f}x faster at p50")


def bench_panel(jpegs: list[bytes], images: ImagesSection) -> None:
    """Wall ms from ``ImagePanel.show`` to the screen refreshed, per half-cell renderer."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual_image.widget import HalfcellImage

    from reviewer.images.preview_cache import Preview
    from reviewer.tui.widgets import image_panel
    from reviewer.tui.widgets.image_panel import ImagePanel

    previews = [
        Preview(f"s{i}", RevealStep.HEAVY, safe_preview(decode(d), RevealStep.HEAVY, images))
        for i, d in enumerate(jpegs)
    ]

    class PanelApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ImagePanel(renderer=HalfcellImage)

    async def run() -> list[float]:
        app = PanelApp()
        times = []
        async with app.run_test(size=(120, 40)) as pilot:
            panel = app.query_one(ImagePanel)
            for preview in previews:
                refreshed = asyncio.Event()
                start = time.perf_counter()
                panel.show(preview.sample_id, RevealStep.HEAVY, preview)
                panel.call_after_refresh(refreshed.set)
                await refreshed.wait()
                times.append((time.perf_counter() - start) * 1000)
            await pilot.pause()
        return times

    original = image_panel._faster
    try:
        image_panel._faster = lambda renderer: renderer  # type: ignore[assignment]
        baseline = asyncio.run(run())
    finally:
        image_panel._faster = original
    ours = asyncio.run(run())
    print("ImagePanel, 120x40 terminal, HEAVY preview, show() to screen refreshed (wall)")
    for name, times in (("textual-image half cells", baseline), ("FastHalfcellImage", ours)):
        print(f"  {name:25s} p50 {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms")
    print(f"  -> {statistics.median(baseline) / statistics.median(ours):.1f}x faster at p50")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images (< 60 s)")
    args = parser.parse_args()
    count, repeat = (12, 2) if args.quick else (40, 5)
    jpegs = make_jpegs(count)
    images = ImagesSection()
    bench_blur(jpegs, images, repeat)
    bench_prefetch(jpegs)
    bench_panel(jpegs, images)


if __name__ == "__main__":
    main()
