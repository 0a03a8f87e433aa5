"""A local HTTP origin server for fetch tests: one path per kind of answer (127.0.0.1 only)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

from PIL import Image


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (6, 6), (0, 0, 200)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png()


class HttpHandler(BaseHTTPRequestHandler):
    """A local origin server with one path per kind of answer (tests never leave 127.0.0.1)."""

    release = threading.Event()
    hits: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, ctype: str, body: bytes, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path == "/ok.png":
            self._send(200, "image/png", PNG)
        elif self.path == "/page.html":
            self._send(200, "text/html; charset=utf-8", b"<html>hi</html>")
        elif self.path == "/big.png":
            self._send(200, "image/png", b"", length=10_000_000)
        elif self.path == "/stream.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"\x89" * 1024)
        elif self.path == "/octet":
            self._send(200, "application/octet-stream", PNG)
        elif self.path == "/drawing.svg":
            self._send(200, "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
        elif self.path == "/svg-as-octet":
            self._send(200, "application/octet-stream", b"<svg/>")
        elif self.path in ("/to-same", "/to-other"):
            host = "127.0.0.1" if self.path == "/to-same" else "localhost"
            self.send_response(302)
            self.send_header("Location", f"http://{host}:{self.server.server_address[1]}/ok.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/trickle.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            while not self.release.wait(0.05):  # a byte at a time, until the test ends
                try:
                    self.wfile.write(b"\x89")
                    self.wfile.flush()
                except OSError:
                    return
        elif self.path == "/garbage.png":
            self._send(200, "image/png", b"definitely not a png")
        elif self.path == "/stall.png":
            self.release.wait(10)  # the server's own stall; the client gives up first
        else:
            self._send(404, "text/plain", b"no")
