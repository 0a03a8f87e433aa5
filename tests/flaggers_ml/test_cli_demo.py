"""``reviewer flag`` with the model flaggers, end to end on the demo audit's real files.

The demo has 53 samples, 51 with a readable image, one corrupt JPEG and one image
missing on disk whose URL cannot be reached: the clip flagger must score the 51,
leave the two unscored with their reasons, and say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.cli.demo_cmd import build_demo_audit
from tests.conftest import Cli

pytestmark = [pytest.mark.ml, pytest.mark.slow]  # tiny models, then the whole demo


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    build_demo_audit(tmp_path / "demo").close()
    return tmp_path / "demo"


def only_run(demo: Path, flagger: str) -> Path:
    (run,) = (demo / "scores" / flagger).iterdir()
    return run


def parts(run: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(sorted(run.glob("part-*.parquet")), columns=columns)


def test_clip_int8_on_the_demo(demo: Path, tiny_clip: tuple[str, Path], cli: Cli) -> None:
    name, weights = tiny_clip
    config = weights.parent / f"{name}.json"
    args = ["flag", str(demo), "--flagger", "clip", "--model", name]
    args += ["--pretrained", str(weights), "--model-config", str(config), "--quantize"]
    result = cli(*args)
    assert result.code == 0, result
    assert "clip: 51 of 53 samples scored" in result.out
    # the demo has local images, so [images] fetch defaults to "never": no URL is fetched
    assert "clip: 2 samples could not be scored (corrupt 1, no local image 1)" in result.err
    run = only_run(demo, "clip")
    saved = json.loads((run / "run.json").read_text())
    assert saved["status"] == "complete" and saved["params"]["quantize"] is True
    assert saved["extra"]["int8_deviation"]["images"] > 0
    rows = {r["sample_id"]: r for r in parts(run).to_pylist()}
    assert len(rows) == 53
    broken = next(r for r in rows.values() if r["error"] == "corrupt")
    assert broken["p_nsfw"] is None and broken["similarity"] is None
    scored = [r for r in rows.values() if r["error"] is None]
    assert len(scored) == 51
    assert all(0 <= r["p_nsfw"] <= 1 and -1 <= r["similarity"] <= 1 for r in scored)


def test_clip_fast_decode_is_its_own_run_with_close_scores(
    demo: Path, tiny_clip: tuple[str, Path], cli: Cli
) -> None:
    name, weights = tiny_clip
    config = weights.parent / f"{name}.json"
    base = ["flag", str(demo), "--flagger", "clip", "--model", name]
    base += ["--pretrained", str(weights), "--model-config", str(config)]
    assert cli(*base).code == 0
    fast = cli(*base, "--fast-decode")
    assert fast.code == 0, fast
    runs = {}
    for run in (demo / "scores" / "clip").iterdir():
        saved = json.loads((run / "run.json").read_text())
        runs[bool(saved["params"].get("fast_decode"))] = parts(run).sort_by("sample_id")
    assert set(runs) == {False, True}  # a new run, not a resume of the full-decode one
    full, reduced = runs[False], runs[True]
    assert full.column("error").to_pylist() == reduced.column("error").to_pylist()
    gaps = []
    for column in ("p_nsfw", "similarity"):
        a = full.column(column).to_numpy(zero_copy_only=False)
        b = reduced.column(column).to_numpy(zero_copy_only=False)
        gaps.append(float(np.nanmax(np.abs(a - b))))
    # The two 512 x 512 JPEGs (astronaut, slide) decode at half scale: scores move a little.
    assert 0 < max(gaps) < 0.05, gaps


def test_hate_then_hcr_on_the_demo(demo: Path, tiny_hate_dir: Path, cli: Cli) -> None:
    flag = ["flag", str(demo), "--flagger", "hate", "--model", str(tiny_hate_dir)]
    result = cli(*flag)
    assert result.code == 0, result
    assert "hate: 53 of 53 samples scored" in result.out
    run = only_run(demo, "hate")
    table = parts(run, ["p_hateful", "p_targeted", "p_aggressive"])
    assert table.num_rows == 53 and all(c.null_count == 0 for c in table.columns)
    hcr = cli("hcr", demo)
    assert hcr.code == 0, hcr
    lines = [line.split() for line in hcr.out.splitlines() if line.startswith("all ")]
    counts = {cells[1]: (int(cells[2]), int(cells[3])) for cells in lines}
    expected = sum(
        1
        for r in table.to_pylist()
        if max(r["p_hateful"], r["p_targeted"], r["p_aggressive"]) >= 0.5
    )
    assert counts["any"] == (expected, 53)
