"""End to end: the real ``reviewer review`` in tmux, driven by send-keys, read by capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reviewer.audit import Audit
from tests.conftest import sample_rows
from tests.tui.app_fixtures import build_audit

pytestmark = [
    pytest.mark.slow,  # the real command in a real terminal
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """One tmux server of our own (its own socket), so nothing else is touched."""

    def __init__(self) -> None:
        self.socket = f"reviewer-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "rv")

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{text}")
            time.sleep(0.1)  # polling interval of capture-pane, not a wait for a result


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True)


def test_review_in_tmux(tmp_path: Path, tmux: Tmux) -> None:
    audit = build_audit(tmp_path / "audit", rows=sample_rows(9, url=None))
    root = audit.root
    audit.close()
    exe = Path(sys.executable).with_name("reviewer")
    tmux(
        "new-session",
        "-d",
        "-s",
        "rv",
        "-x",
        "120",
        "-y",
        "40",
        f"{exe} review {root} --reviewer ana; echo EXITED $?; sleep 60",
    )
    tmux.wait_for(lambda s: "0 / 6 done" in s and "flagged because" in s)
    tmux("send-keys", "-t", "rv", "y")
    tmux.wait_for(lambda s: "1 / 6 done" in s and "saved: confirm" in s)
    tmux("send-keys", "-t", "rv", "r")
    tmux.wait_for(lambda s: "lightly blurred" in s or "image unavailable" in s)
    tmux("send-keys", "-t", "rv", "q")
    tmux.wait_for(lambda s: "Session summary" in s)
    tmux("send-keys", "-t", "rv", "Enter")
    final = tmux.wait_for(lambda s: "EXITED" in s)
    assert "EXITED 0" in final and "Reviewer ana: 1 decision (confirm 1)" in final
    # textual-image's Kitty probe (an APC string) must not have become the pane's title.
    title = tmux("display-message", "-p", "-t", "rv", "#{pane_title}")
    assert "Gi=" not in title and "a=q" not in title, title
    reopened = Audit.open(root)
    verdicts = [r["verdict"] for r in reopened.labels.current_labels().to_pylist()]
    kinds = [r["kind"] for r in reopened.labels.exposure().to_pylist()]
    reopened.close()
    assert verdicts == ["confirm"]
    assert "reveal" in kinds and kinds[-1] == "session_end"
