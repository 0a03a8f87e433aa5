"""Fixtures for the statistics tests: audits with samples, fixture flag runs and labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.store import Decision
from reviewer.store.scores import FlagViews

FlagRows = Iterable[tuple[str, str]]


@pytest.fixture
def set_flags(monkeypatch: pytest.MonkeyPatch) -> Callable[[FlagRows], None]:
    """Replace the flags contract view with fixed (sample_id, flag) rows, all flagged.

    The statistics only read the ``flags`` view; a fixture run keeps these tests
    independent of the flaggers and their models.
    """

    def install(rows: FlagRows) -> None:
        pairs = list(rows)
        table = pa.table({
            "sample_id": pa.array([s for s, _ in pairs], pa.string()),
            "flagger": pa.array([f.split("_")[0] for _, f in pairs], pa.string()),
            "flag": pa.array([f for _, f in pairs], pa.string()),
            "score": pa.array([0.9] * len(pairs), pa.float64()),
            "flagged": pa.array([True] * len(pairs), pa.bool_()),
            "reason": pa.array([f"fixture {f}" for _, f in pairs], pa.string()),
            "run_id": pa.array(["fixture"] * len(pairs), pa.string()),
        })

        def install(
            self: FlagViews, conn: duckdb.DuckDBPyConnection, settings: Settings,
            within: str | None = None, rowids: object = None, span: object = None,
        ) -> list[str]:  # the fixture rows are few: every subset keeps all of them
            conn.register("_fixture_flags", table)
            conn.execute("CREATE OR REPLACE TEMP VIEW flags AS SELECT * FROM _fixture_flags")
            return []

        monkeypatch.setattr(FlagViews, "install", install)

    return install


@pytest.fixture
def label() -> Callable[..., None]:
    """Record decisions: ``label(audit, [(sample_id, verdict), ...], reviewer="ana")``."""

    def record(
        audit: Audit, decisions: Iterable[tuple[str, str]], reviewer: str = "ana",
        category: str = "nsfw", **extra: Any,
    ) -> None:
        for sample_id, verdict in decisions:
            audit.labels.record(Decision(sample_id, reviewer, category, verdict, **extra))

    return record


@pytest.fixture
def make_rows() -> Callable[..., list[dict[str, Any]]]:
    """``make_rows(n, **overrides)``: LAION-shaped rows; nsfw tags cycle UNLIKELY, UNSURE, NSFW.

    (A fixture rather than an import of the root conftest, so the tests run from any
    rootdir.)
    """

    def rows(n: int, prefix: str = "s", **overrides: Any) -> list[dict[str, Any]]:
        tags = ["UNLIKELY", "UNSURE", "NSFW"]
        out = []
        for i in range(n):
            row: dict[str, Any] = {
                "sample_id": f"{prefix}{i:05d}", "url": f"https://example.org/{i}.jpg",
                "text": f"caption {i}", "nsfw": tags[i % 3], "punsafe": None,
                "similarity": 0.3, "dataset": "laion400m", "source_file": "fixture.parquet",
                "source_row": i,
            }
            row.update(overrides)
            out.append(row)
        return out

    return rows
