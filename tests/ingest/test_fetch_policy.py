"""``[images] fetch``: no origin server is contacted unless the audit's settings allow it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.images.blur import RevealStep
from reviewer.images.fetch import NO_LOCAL, NOT_REVEALED
from reviewer.images.preview_cache import PreviewCache
from reviewer.images.resolve import active_fetch_mode, load_image
from reviewer.ingest import ingest
from tests.ingest.conftest import img2dataset_shard, write_parquet
from tests.ingest.http_origin import HttpHandler


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to open a connection is recorded and refused."""
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise OSError("socket use forbidden by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return calls


def _url_sample(server: str, sid: str = "u1") -> dict[str, Any]:
    return {"sample_id": sid, "url": f"{server}/ok.png", "image_ref": None}


def test_never_opens_no_socket_on_load_or_reveal(
    audit: Audit,
    server: str,
    no_sockets: list[Any],
) -> None:
    audit.settings.images.fetch = "never"
    for revealed in (False, True):
        with pytest.raises(Exception) as err:
            load_image(audit, _url_sample(server), revealed=revealed)
        assert getattr(err.value, "reason", None) == NO_LOCAL
    with PreviewCache(audit) as cache:
        cache.prefetch([_url_sample(server, f"p{i}") for i in range(4)], RevealStep.HEAVY)
        for step in (RevealStep.HEAVY, RevealStep.LIGHT, RevealStep.FULL):
            preview = cache.request(_url_sample(server), step).result(timeout=30)
            assert preview.image is None and NO_LOCAL in preview.status
    assert no_sockets == [] and HttpHandler.hits == []


def test_on_reveal_fetches_only_the_revealed_item(audit: Audit, server: str) -> None:
    audit.settings.images.fetch = "on-reveal"
    with PreviewCache(audit) as cache:
        cache.prefetch([_url_sample(server, f"p{i}") for i in range(3)], RevealStep.HEAVY)
        first = cache.request(_url_sample(server), RevealStep.HEAVY).result(timeout=30)
        assert first.image is None and NOT_REVEALED in first.status
        assert HttpHandler.hits == []  # blurred previews and prefetches fetched nothing
        revealed = cache.request(_url_sample(server), RevealStep.LIGHT).result(timeout=30)
        assert revealed.image is not None
    assert HttpHandler.hits == ["/ok.png"]


def test_prefetch_fetches_before_any_reveal(audit: Audit, server: str) -> None:
    audit.settings.images.fetch = "prefetch"
    with PreviewCache(audit) as cache:
        preview = cache.request(_url_sample(server), RevealStep.HEAVY).result(timeout=30)
    assert preview.image is not None and HttpHandler.hits == ["/ok.png"]


def test_default_is_never_with_local_images_else_on_reveal(audit: Audit, tmp_path: Path) -> None:
    table = pa.table({"URL": ["http://a"], "TEXT": ["t"]})
    ingest(audit.store, [str(write_parquet(tmp_path / "m.parquet", table))])
    assert active_fetch_mode(audit) == "on-reveal"
    other = Audit.init(tmp_path / "with-images")
    img2dataset_shard(tmp_path / "out", "00000", 2, as_tar=False)
    ingest(other.store, [str(tmp_path / "out")])
    assert active_fetch_mode(other) == "never"
    other.settings.images.fetch = "sometimes"
    with pytest.raises(ReviewerError, match="unknown fetch mode"):
        active_fetch_mode(other)
    other.close()
