"""Fixtures for the flagging tests: audits with chosen rows, and scripted flaggers.

Scripted flaggers return probabilities fixed per sample id, so the tests know every
score by construction; they go through the real runner and run folders, exactly as
the hate and clip flaggers do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pyarrow as pa
import pytest

from reviewer.audit import Audit
from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.base import Flagger


class ScriptedFlagger(Flagger):
    """Returns the scores in ``table[sample_id]``; optionally fails after some batches.

    Args:
        table: sample_id -> {column: value} (missing ids get NULL scores).
        fail_after: raise RuntimeError when asked for batch number ``fail_after`` (0-based).
        tag: Part of the provenance, so tests can make two different runs.
    """

    batch_size: ClassVar[int] = 4

    def __init__(
        self, table: dict[str, dict[str, Any]], fail_after: int | None = None, tag: str = "a"
    ) -> None:
        self.table = table
        self.fail_after = fail_after
        self.tag = tag
        self.calls = 0
        self.scored_ids: list[str] = []

    def params(self) -> dict[str, Any]:
        return {"tag": self.tag}

    def score_batch(self, batch: pa.Table) -> pa.Table:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.calls += 1
        ids = batch.column("sample_id").to_pylist()
        self.scored_ids.extend(ids)
        data: dict[str, Any] = {"sample_id": ids}
        for column in self.columns:
            data[column] = [self.table.get(i, {}).get(column) for i in ids]
        return pa.table(data)


class ScriptedHate(ScriptedFlagger):
    name: ClassVar[str] = "hate"
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["hate"]


class StreamingHate(ScriptedHate):
    """A scripted flagger whose runs read rows from the audit, as keyword's do."""

    streams: ClassVar[bool] = True


class ScriptedClip(ScriptedFlagger):
    name: ClassVar[str] = "clip"
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["clip"]


@pytest.fixture
def scripted_hate() -> type[ScriptedHate]:
    return ScriptedHate


@pytest.fixture
def streaming_hate() -> type[StreamingHate]:
    return StreamingHate


@pytest.fixture
def scripted_clip() -> type[ScriptedClip]:
    return ScriptedClip


@pytest.fixture
def audit_with(
    audit: Audit, add_samples: Callable[[list[dict[str, Any]]], int]
) -> Callable[[list[dict[str, Any]]], Audit]:
    """Insert rows and return the audit."""

    def build(rows: list[dict[str, Any]]) -> Audit:
        add_samples(rows)
        return audit

    return build
