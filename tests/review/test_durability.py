"""Decisions survive kill -9, and several reviewers plus a DuckDB reader/writer never collide."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.audit import Audit
from tests.tui.app_fixtures import build_audit

WORKER = Path(__file__).with_name("_worker.py")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real reviewer processes, killed and restarted


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_kill_9_loses_nothing_shown_as_saved(tmp_path: Path) -> None:
    audit = build_audit(tmp_path / "audit", n=600)
    root = str(audit.root)
    audit.close()
    proc = _spawn("review", root, "ana", "400")
    assert proc.stdout is not None
    saved: list[str] = []
    for line in proc.stdout:
        if line.startswith("saved "):
            saved.append(line.split()[2])
        if len(saved) >= 25:
            break
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate()
    saved += [line.split()[2] for line in rest.splitlines() if line.startswith("saved ")]
    assert proc.returncode == -signal.SIGKILL
    reopened = Audit.open(root)
    stored = {r["sample_id"] for r in reopened.labels.current_labels().to_pylist()}
    reopened.close()
    assert len(saved) >= 25
    assert set(saved) <= stored


def test_reviewers_in_parallel_with_a_duckdb_reader_and_writer(tmp_path: Path) -> None:
    audit = build_audit(tmp_path / "audit", n=300)
    root = str(audit.root)
    audit.close()
    reader = _spawn("read", root, "4")
    reviewers = {name: _spawn("review", root, name, "40") for name in ("ana", "bob", "eve")}
    outputs = {name: proc.communicate(timeout=120) for name, proc in reviewers.items()}
    read_out, read_err = reader.communicate(timeout=120)
    assert reader.returncode == 0, read_err
    assert int(read_out.split()[1]) > 0
    reopened = Audit.open(root)
    labels = reopened.labels.current_labels().to_pylist()
    reopened.close()
    for name, (out, err) in outputs.items():
        assert reviewers[name].returncode == 0, err
        assert "lock" not in err.lower()
        saved = [line.split()[2] for line in out.splitlines() if line.startswith("saved ")]
        assert len(saved) == 40
        assert sorted(saved) == sorted(r["sample_id"] for r in labels if r["reviewer"] == name)
