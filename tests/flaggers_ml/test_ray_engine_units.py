"""Pieces of the Ray engine that need no Ray cluster: slicing, pool sizing, errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.errors import ReviewerError
from reviewer.flaggers.base import Flagger
from reviewer.flaggers.ray_engine import (
    AuditRef,
    _check_gpus,
    _user_error,
    pool_size,
    portable,
    read_slice,
)
from reviewer.store.runs import RunDir


def test_read_slice_matches_the_local_engine_parts(tmp_path: Path) -> None:
    """Parts read by actors are exactly the slices the local runner writes, across
    row-group boundaries."""
    table = pa.table({"sample_id": [f"s{i:03d}" for i in range(23)], "text": ["t"] * 23})
    run = RunDir.create(tmp_path, {"flagger": "x", "version": "1", "params": {}}, batch_size=5)
    pq.write_table(table, run.todo_path, row_group_size=4)
    run.info.todo_rows = 23
    local = dict(run.iter_todo())
    assert sorted(local) == [0, 1, 2, 3, 4]
    for index, expected in local.items():
        assert read_slice(run.todo_path, index, 5, None).equals(expected.combine_chunks())
    assert read_slice(run.todo_path, 9, 5, ["sample_id"]).num_rows == 0


def test_pool_size() -> None:
    assert pool_size(gpus=4, cpus=64, wants_gpu=True, actors=None) == (4, 1.0)
    assert pool_size(gpus=0, cpus=8, wants_gpu=True, actors=None) == (8, 0.0)
    assert pool_size(gpus=4, cpus=64, wants_gpu=False, actors=None) == (64, 0.0)
    assert pool_size(gpus=0, cpus=8, wants_gpu=False, actors=3) == (3, 0.0)


class _Plain(Flagger):
    name = "plain"

    def __init__(self, device: str) -> None:
        self.device = device


def test_gpu_asked_for_on_a_cluster_without_gpus() -> None:
    with pytest.raises(ReviewerError, match="no GPU"):
        _check_gpus(_Plain("cuda"), 0)
    _check_gpus(_Plain("auto"), 0)
    _check_gpus(_Plain("cuda:1"), 2)


def test_wrapped_user_errors_come_back_as_themselves() -> None:
    original = ReviewerError("hate model x: not in the local Hugging Face cache", "copy it")
    wrapper = RuntimeError("RayTaskError(UserCodeException): long traceback")
    wrapper.cause = original  # type: ignore[attr-defined]
    assert _user_error(wrapper) is original
    try:
        try:
            raise original
        except ReviewerError as exc:
            raise RuntimeError("outer") from exc
    except RuntimeError as outer:
        assert _user_error(outer) is original
    other = _user_error(RuntimeError("Traceback ...\nValueError: bad shape"))
    assert other.message == "Ray job failed: ValueError: bad shape"


def test_portable_replaces_audits_by_reference(audit: object) -> None:
    flagger = _Plain("cpu")
    flagger.audit = audit  # type: ignore[attr-defined]
    clone = portable(flagger)
    assert clone.audit == AuditRef(str(audit.root))  # type: ignore[attr-defined]
    assert flagger.audit is audit  # type: ignore[attr-defined]
