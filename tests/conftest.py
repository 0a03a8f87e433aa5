"""Fixtures shared by every test: tiny audits built on disk, offline model hubs."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pytest

from reviewer.audit import Audit

# No model hub is reachable from these machines: never wait for one.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


SampleRows = list[dict[str, Any]]


class Ran(NamedTuple):
    """What one ``reviewer`` command did: exit code, stdout, stderr.

    A crash (any exception but ``SystemExit``) has its traceback appended to ``err``, so
    "no traceback" assertions see what a user would have seen in the terminal.
    """

    code: int
    out: str
    err: str


def assert_one_line_error(ran: Ran, *fragments: str, code: int | None = None) -> str:
    """A refusal: a non-zero exit (``code`` when given), nothing on stdout, and one ``error:``
    line on stderr naming the problem (a crash would add its traceback there); returns it."""
    assert ran.code != 0 and code in (None, ran.code), ran
    assert ran.out == "", ran.out
    lines = [line for line in ran.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


Cli = Callable[..., Ran]
"""``cli(*args)``: run ``reviewer ARGS…`` in this process (arguments may be paths or numbers)."""


def sample_rows(n: int, dataset: str = "laion400m", **overrides: Any) -> SampleRows:
    """``n`` LAION-400M-shaped rows with predictable, innocent values."""
    tags = ["UNLIKELY", "UNSURE", "NSFW"]
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "sample_id": f"s{i:05d}",
            "url": f"https://example.org/img/{i}.jpg",
            "text": f"caption number {i}",
            "license": "?",
            "nsfw": tags[i % 3],
            "punsafe": None,
            "pwatermark": None,
            "similarity": 0.3,
            "width": 64,
            "height": 64,
            "hash": None,
            "dataset": dataset,
            "source_file": "fixture.parquet",
            "source_row": i,
            "image_ref": None,
        }
        row.update(overrides)
        rows.append(row)
    return rows


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[Audit]:
    """A new, empty audit folder on disk."""
    a = Audit.init(tmp_path / "audit")
    yield a
    a.close()


@pytest.fixture
def add_samples(audit: Audit) -> Callable[[SampleRows], int]:
    """Insert canonical rows straight into the audit's samples table."""

    def add(rows: SampleRows) -> int:
        table = pa.Table.from_pylist(rows)
        with audit.store.connect(write=True) as conn:
            return audit.store.samples.insert(conn, table)

    return add


def run_cli(*args: object) -> Ran:
    """Run one ``reviewer`` command in-process through click's runner (what ``cli`` returns;
    module-level so helpers outside a test function can share the same runner)."""
    from click.testing import CliRunner

    from reviewer.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, err)


@pytest.fixture
def cli() -> Cli:
    """The ``reviewer`` command line, run in-process through click's runner."""
    return run_cli


@pytest.fixture
def detailed() -> Any:
    """Large text on red: unreadable only if the blur really works (image and widget tests)."""
    from tests.images.pictures import text_image

    return text_image()


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A registered tiny open_clip architecture and a local checkpoint of random weights
    (the clip flagger's and the probe tests' model, built offline once per session)."""
    pytest.importorskip("open_clip")
    from tests.flaggers_ml.tiny_models import register_tiny_clip, save_clip_checkpoint

    folder = tmp_path_factory.mktemp("tiny_clip")
    name = register_tiny_clip(folder)
    return name, save_clip_checkpoint(name, folder / "weights.pt")
