"""Images at review time: local roots, tar members, decode checks, HTTP fetch into cache/."""

from __future__ import annotations

import io
import stat
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from reviewer.audit import Audit
from reviewer.errors import ImageUnavailableError
from reviewer.images.decode import decode_image
from reviewer.images.fetch import cache_path
from reviewer.images.resolve import load_image
from tests.ingest.conftest import png_bytes
from tests.ingest.http_origin import PNG, HttpHandler


def _root(audit: Audit, path: Path, kind: str = "dir") -> int:
    with audit.store.ingest.transaction() as conn:
        return audit.store.ingest.image_root_id(conn, str(path), kind)


def _reason(audit: Audit, sample: dict[str, Any]) -> str:
    with pytest.raises(ImageUnavailableError) as err:
        load_image(audit, sample)
    return err.value.reason


def test_local_file_under_its_root(audit: Audit, tmp_path: Path) -> None:
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    (tmp_path / "imgs" / "sub" / "a.png").write_bytes(png_bytes((5, 4)))
    root = _root(audit, tmp_path / "imgs")
    image = load_image(audit, {"sample_id": "s", "image_ref": f"{root}:sub/a.png"})
    assert image.size == (5, 4) and image.mode == "RGB"


def test_escapes_and_symlinks_out_of_the_root_are_refused(audit: Audit, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "secret.png").write_bytes(png_bytes())
    (tmp_path / "imgs" / "link.png").symlink_to(tmp_path / "secret.png")
    root = _root(audit, tmp_path / "imgs")
    for member in ("../secret.png", "link.png", "/etc/passwd", "sub/../../secret.png"):
        assert _reason(audit, {"image_ref": f"{root}:{member}"}) == "outside its root"


def test_missing_image_and_no_reference(audit: Audit, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    root = _root(audit, tmp_path / "imgs")
    assert _reason(audit, {"image_ref": f"{root}:gone.png"}) == "no image"
    assert _reason(audit, {"image_ref": "99:x.png"}) == "no image"
    assert _reason(audit, {"sample_id": "s", "url": None, "image_ref": None}) == "no image"


def test_corrupt_not_an_image_and_bomb(tmp_path: Path) -> None:
    good = png_bytes((64, 64))
    with pytest.raises(ImageUnavailableError) as err:
        decode_image(good[: len(good) // 2], max_pixels=10_000)
    assert err.value.reason == "corrupt"
    with pytest.raises(ImageUnavailableError) as err:
        decode_image(b"<html>404 not found</html>", max_pixels=10_000)
    assert err.value.reason == "not an image"
    for side in (9_000, 20_000):  # over our cap; over Pillow's own bomb limit
        with pytest.raises(ImageUnavailableError) as err:
            decode_image(_bomb_png(side), max_pixels=64_000_000)
        assert err.value.reason == "too large"
    with pytest.raises(ImageUnavailableError) as err:
        decode_image(_bomb_png(9_000), max_pixels=64_000_000)
    assert "9000x9000" in err.value.message


def _bomb_png(side: int) -> bytes:
    """A tiny PNG whose header claims ``side`` x ``side`` pixels (a decompression bomb)."""
    data = bytearray(png_bytes((1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", side, side)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def test_transparent_png_is_flattened_onto_white() -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (3, 3), (255, 0, 0, 0)).save(buf, format="PNG")
    assert decode_image(buf.getvalue(), 100).getpixel((1, 1)) == (255, 255, 255)


def test_load_image_is_thread_safe_on_tar_members(audit: Audit, tmp_path: Path) -> None:
    import tarfile

    shard = tmp_path / "s.tar"
    with tarfile.open(shard, "w") as tar:
        for i in range(20):
            data = png_bytes((4, 4), (i * 10, 0, 0))
            info = tarfile.TarInfo(f"k{i}.png")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    root = _root(audit, shard, "tar")
    results: dict[int, Any] = {}

    def work(i: int) -> None:
        results[i] = load_image(audit, {"image_ref": f"{root}:k{i}.png"}).getpixel((0, 0))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: (i * 10, 0, 0) for i in range(20)}


# -- HTTP fetch against a local server ------------------------------------------------

@pytest.fixture
def fetching(audit: Audit) -> Audit:
    audit.settings.images.fetch = "prefetch"
    audit.settings.images.fetch_timeout_s = 0.5
    audit.settings.images.fetch_max_bytes = 50_000
    return audit


def test_fetch_200_caches_privately_and_serves_from_cache(fetching: Audit, server: str) -> None:
    sample = {"sample_id": "laion:a:1", "url": f"{server}/ok.png", "image_ref": None}
    assert load_image(fetching, sample).getpixel((0, 0)) == (0, 0, 200)
    cached = cache_path(fetching.paths.images_cache, "laion:a:1")
    assert cached.read_bytes() == PNG
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(fetching.paths.cache.stat().st_mode) == 0o700
    assert load_image(fetching, sample).size == (6, 6)
    assert HttpHandler.hits == ["/ok.png"]  # the second load came from the cache


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.png", "404"),
        ("/page.html", "not an image"),
        ("/big.png", "too large"),
        ("/stream.png", "too large"),
        ("/garbage.png", "not an image"),
        ("/stall.png", "timeout"),
        ("/trickle.png", "timeout"),  # the deadline is total, not per recv
        ("/drawing.svg", "not an image"),
        ("/svg-as-octet", "not an image"),  # sniffed: does not decode
        ("/to-other", "redirect to another host"),
    ],
)
def test_fetch_failures_have_a_reason_and_cache_nothing(
    fetching: Audit, server: str, path: str, reason: str
) -> None:
    sample = {"sample_id": "s1", "url": f"{server}{path}", "image_ref": None}
    assert _reason(fetching, sample) == reason
    assert list(fetching.paths.images_cache.iterdir()) == []


def test_non_http_urls_and_hostile_ids_never_touch_the_filesystem(fetching: Audit) -> None:
    assert _reason(fetching, {"sample_id": "s", "url": "file:///etc/passwd"}) == "bad url"
    hostile = cache_path(fetching.paths.images_cache, "../../escape")
    assert hostile.parent == fetching.paths.images_cache
    assert cache_path(fetching.paths.images_cache, "plain-id").name == "plain-id.img"


def _jpeg(size: tuple[int, int], mode: str = "RGB") -> bytes:
    down = Image.linear_gradient("L")
    across = down.transpose(Image.Transpose.ROTATE_90)
    image = Image.merge("RGB", (down.resize(size), across.resize(size), down.resize(size)))
    buf = io.BytesIO()
    image.convert(mode).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("size", "mode", "expected"),
    [
        ((2400, 1600), "RGB", (300, 200)),  # 1/8 still covers 256 x 171
        ((4000, 1000), "RGB", (500, 125)),  # 1/8: the fitted size is 256 x 64
        ((1800, 1200), "CMYK", (450, 300)),  # 1/8 would be too small: 1/4; CMYK to RGB
        ((300, 200), "L", (300, 200)),  # already small: full size
    ],
)
def test_jpeg_for_a_preview_decodes_at_a_covering_scale(
    size: tuple[int, int], mode: str, expected: tuple[int, int]
) -> None:
    from reviewer.images.blur import downscale

    data = _jpeg(size, mode)
    small = decode_image(data, max_pixels=64_000_000, fit_px=256)
    assert small.size == expected and small.mode == "RGB"
    full = decode_image(data, max_pixels=64_000_000)
    assert full.size == size
    a, b = downscale(small, 256), downscale(full, 256)
    assert a.size == b.size  # the preview has the same shape either way...
    diff = [abs(p - q) for p, q in zip(a.tobytes(), b.tobytes(), strict=True)]
    assert sum(diff) / len(diff) < 3  # ...and looks the same (mean error < 3 of 255)


def test_fit_leaves_other_formats_and_the_bomb_check_alone() -> None:
    png = png_bytes((1200, 800))
    assert decode_image(png, max_pixels=64_000_000, fit_px=256).size == (1200, 800)
    with pytest.raises(ImageUnavailableError, match="too large"):
        decode_image(_jpeg((3000, 3000)), max_pixels=1_000_000, fit_px=64)


def test_min_side_keeps_the_shortest_side_covered() -> None:
    """CLIP resizes the shortest side to 224: decode no smaller than that."""
    wide = decode_image(_jpeg((2400, 1600)), max_pixels=64_000_000, min_side=224)
    assert wide.size == (600, 400)  # 1/4; 1/8 would leave a 200 px shortest side
    tall = decode_image(_jpeg((1000, 4000)), max_pixels=64_000_000, min_side=224)
    assert tall.size == (250, 1000)  # 1/4: 250 >= 224
    small = decode_image(_jpeg((300, 200)), max_pixels=64_000_000, min_side=224)
    assert small.size == (300, 200)  # shorter than 224 already: full size


@pytest.mark.parametrize("path", ["/octet", "/to-same"])
def test_octet_stream_that_decodes_and_same_host_redirects_are_accepted(
    fetching: Audit, server: str, path: str
) -> None:
    sample = {"sample_id": "s2", "url": f"{server}{path}", "image_ref": None}
    assert load_image(fetching, sample).getpixel((0, 0)) == (0, 0, 200)


def test_redirect_to_another_host_when_allowed(fetching: Audit, server: str) -> None:
    fetching.settings.images.fetch_other_hosts = True
    sample = {"sample_id": "s3", "url": f"{server}/to-other", "image_ref": None}
    assert load_image(fetching, sample).size == (6, 6)
    assert HttpHandler.hits == ["/to-other", "/ok.png"]
