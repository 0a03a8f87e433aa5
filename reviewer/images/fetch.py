"""Fetching a sampled item's image from its URL into the audit's ``cache/images``.

Fetching contacts an origin server: for LAION, where known illegal-content URLs
exist, that is a legal and safety act, so it happens only as ``[images] fetch``
allows (:func:`fetch_mode`): ``never`` opens no socket, ``on-reveal`` fetches
only the item a reviewer reveals, ``prefetch`` also the next items. Only items a
reviewer is about to see are fetched, never whole datasets. The cache (mode
0700) is the only place pixels are written; a response is written there only
after it passed the status, content-type, size and decode checks, so the cache
never holds an HTML error page, an SVG or a bomb. Redirects to another host are
refused unless allowed; ``fetch_timeout_s`` is a deadline for the whole fetch.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from reviewer.config import ImagesSection
from reviewer.errors import ImageUnavailableError, ReviewerError
from reviewer.images.decode import decode_image

_CHUNK = 65_536
USER_AGENT = "reviewer-audit/0.1 (dataset audit; fetches single sampled images)"
FETCH_MODES = ("never", "on-reveal", "prefetch")
NOT_REVEALED = "not fetched until revealed"
"""Reason of a URL-only image in ``on-reveal`` mode before the reviewer reveals it."""
NO_LOCAL = "no local image"
"""Reason of a URL-only image in ``never`` mode."""
_NEVER_HTML = ("text/", "image/svg", "application/xhtml", "application/xml", "application/json")


def fetch_mode(setting: str, has_local_images: bool) -> str:
    """The active fetch mode: the setting, or its default for this audit.

    Raises:
        ReviewerError: An unknown value in ``reviewer.toml``.
    """
    if setting == "":
        return "never" if has_local_images else "on-reveal"
    if setting not in FETCH_MODES:
        raise ReviewerError(
            f"reviewer.toml [images] fetch = {setting!r}: unknown fetch mode",
            'use "never", "on-reveal" or "prefetch" (or "" for the default)',
        )
    return setting


def cache_path(cache_dir: Path, sample_id: str) -> Path:
    """Where a sample's fetched image is kept: ``<sample_id>.img`` when that name is a
    plain file name, else a hash of the id (hostile ids never become paths)."""
    safe = (
        sample_id
        and len(sample_id) < 200
        and "/" not in sample_id
        and "\\" not in sample_id
        and "\x00" not in sample_id
        and sample_id not in (".", "..")
        and not sample_id.startswith(".")
    )
    name = sample_id if safe else hashlib.sha256(sample_id.encode()).hexdigest()
    return cache_dir / f"{name}.img"


def fetch_image(url: str, cache_file: Path, settings: ImagesSection) -> bytes:
    """Return the image bytes for ``url``, from the cache or fetched (then cached).

    Raises:
        ImageUnavailableError: ``bad url``, ``404`` (any HTTP status), ``timeout``,
            ``unreachable``, ``not an image``, ``too large`` or ``corrupt``.
    """
    if cache_file.is_file():
        return cache_file.read_bytes()
    if not url.lower().startswith(("http://", "https://")):
        raise ImageUnavailableError(
            "bad url", f"image unavailable (not an http(s) URL: {url[:80]})"
        )
    data = _download(url, settings)
    decode_image(data, settings.max_pixels)  # never cache what cannot be shown
    _write_private(cache_file, data)
    return data


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects only to the same host, unless the settings allow others."""

    def __init__(self, other_hosts: bool) -> None:
        self.other_hosts = other_hosts

    def redirect_request(  # type: ignore[no-untyped-def]
        self, req, fp, code, msg, headers, newurl
    ):  # signature of urllib's handler
        old_host = urllib.parse.urlsplit(req.full_url).hostname
        new_host = urllib.parse.urlsplit(newurl).hostname
        if new_host != old_host and not self.other_hosts:
            raise ImageUnavailableError(
                "redirect to another host",
                f"image unavailable (redirect to another host: {str(new_host)[:80]})",
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download(url: str, settings: ImagesSection) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + settings.fetch_timeout_s
    opener = urllib.request.build_opener(_SameHostRedirects(settings.fetch_other_hosts))
    try:
        with opener.open(request, timeout=settings.fetch_timeout_s) as response:
            ctype = response.headers.get_content_type()
            if ctype.startswith(_NEVER_HTML):
                raise ImageUnavailableError(
                    "not an image", f"image unavailable (not an image: {ctype})"
                )  # other types (octet-stream...) are kept only if the bytes decode
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > settings.fetch_max_bytes:
                raise ImageUnavailableError("too large")
            return _read_capped(response, settings.fetch_max_bytes, deadline)
    except urllib.error.HTTPError as exc:
        raise ImageUnavailableError(str(exc.code)) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise ImageUnavailableError("timeout") from exc
        raise ImageUnavailableError("unreachable") from exc
    except TimeoutError as exc:
        raise ImageUnavailableError("timeout") from exc
    except (OSError, ValueError) as exc:
        raise ImageUnavailableError("unreachable") from exc


def _read_capped(response: object, max_bytes: int, deadline: float) -> bytes:
    """The body, up to ``max_bytes``, before ``deadline``: ``read1`` returns what has
    arrived, so a server trickling a byte at a time cannot outlast the deadline."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise ImageUnavailableError("timeout")
        chunk = response.read1(_CHUNK)  # type: ignore[attr-defined]
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise ImageUnavailableError("too large")
        if time.monotonic() > deadline:
            raise ImageUnavailableError("timeout")
        chunks.append(chunk)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only, inside the 0700 cache."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
