"""``--engine ray`` on a local Ray cluster: the same parts as the local engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import sample_rows

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """One local Ray instance for the whole module (startup costs seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _scores(info: Any) -> pa.Table:
    parts = sorted(Path(info.path).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).sort_by("sample_id")


def _rows(n: int) -> list[dict[str, Any]]:
    rows = sample_rows(n)
    rows[2]["text"] = "hot porn and xxx"
    rows[3]["url"] = "https://adult.example/x.jpg"
    rows[5]["text"] = None
    return rows


def test_keyword_on_ray_equals_local(
    ray_cluster: Any, audit: Any, add_samples: Callable[[list[dict[str, Any]]], int]
) -> None:
    from reviewer.flaggers.runner import run_flagger

    add_samples(_rows(23))
    local = run_flagger(audit, "keyword", batch_size=5)
    remote = run_flagger(audit, "keyword", batch_size=5, engine="ray")
    assert remote.status == "complete" and remote.engine == "ray"
    assert remote.run_id != local.run_id and remote.parts == local.parts == 5
    assert _scores(remote).equals(_scores(local))
    extra = json.loads((Path(remote.path) / "run.json").read_text())["extra"]
    assert 1 <= extra["ray"]["actors"] <= 2


@pytest.mark.ml
def test_tiny_hate_resumed_on_ray_equals_local(
    ray_cluster: Any,
    audit: Any,
    add_samples: Callable[[list[dict[str, Any]]], int],
    tiny_hate_dir: Path,
) -> None:
    """An interrupted run (one part missing) is finished by Ray actors loading the model."""
    from reviewer.flaggers.runner import run_flagger
    from reviewer.store.runs import RunDir

    add_samples(_rows(11))
    options = {"model": str(tiny_hate_dir), "device": "cpu", "batch_size": 4}
    reference = run_flagger(audit, "hate", **options)
    crashed = run_flagger(audit, "hate", resume=False, **options)
    run = RunDir.load(Path(crashed.path))
    run.part_path(1).unlink()
    run.mark("failed", error="simulated crash")
    resumed = run_flagger(audit, "hate", engine="ray", **options)
    assert resumed.run_id == crashed.run_id
    assert resumed.status == "complete" and resumed.engine == "ray"
    assert _scores(resumed).equals(_scores(reference))
    saved = json.loads((Path(resumed.path) / "run.json").read_text())["extra"]
    assert saved["ray"]["actors"] == 1  # one part left: one actor
    assert saved["unscored_captions"] == 1  # the NULL caption sits in part 1


@pytest.mark.ml
def test_tiny_clip_on_ray_equals_local_on_the_demo_images(
    ray_cluster: Any, tmp_path: Path, tiny_clip: tuple[str, Path]
) -> None:
    """Actors register the custom architecture, read the audit's image files themselves,
    and write the same scores (and the same unscored reasons) as the local engine."""
    from reviewer.cli.demo_cmd import build_demo_audit
    from reviewer.flaggers.runner import run_flagger

    audit = build_demo_audit(tmp_path / "demo")
    name, weights = tiny_clip
    options = {
        "model": name,
        "pretrained": str(weights),
        "model_config": str(weights.parent / f"{name}.json"),
        "device": "cpu",
        "batch_size": 16,
    }
    local = run_flagger(audit, "clip", **options)
    remote = run_flagger(audit, "clip", engine="ray", resume=False, **options)
    assert remote.status == "complete" and remote.engine == "ray"
    assert remote.parts == local.parts == 4  # the demo's 53 rows in batches of 16
    got, want = _scores(remote), _scores(local)
    assert got.column("error").to_pylist() == want.column("error").to_pylist()
    errors = sorted(r for r in got.column("error").to_pylist() if r)
    assert errors == ["corrupt", "no local image"]  # fetch "never": the demo has local images
    for column in ("p_nsfw", "similarity"):
        a = got.column(column).to_numpy(zero_copy_only=False)
        b = want.column(column).to_numpy(zero_copy_only=False)
        assert np.allclose(a, b, atol=1e-5, equal_nan=True), column
    audit.close()
