"""Whole-audit flag passes run one slice of row ids at a time (``reviewer.store.slices``):
the same populations, plan and flag counts whatever the slice size, and the counts
those of an independent pandas pass over every flag row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.store import slices
from reviewer.store.runs import RANGES_SCHEMA, RunDir
from tests.conftest import Cli, sample_rows

N = 130


def _ingest(audit: Audit, cli: Cli, path: Path, start: int, n: int) -> None:
    rows = sample_rows(start + n)[start:]
    for i, row in enumerate(rows, start):
        row["sample_id"] = f"{i * 7919 % 100_003:06d}"  # ids out of storage order, as LAION's
        row["text"] = "an adult film poster" if i % 5 == 0 else f"caption {i}"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert cli("ingest", audit.root, path).code == 0


@pytest.fixture
def flagged(tmp_path: Path, cli: Cli) -> Iterator[Audit]:
    """N rows in two files; keyword parts of 16 rows and NSFW-field parts of 7, so parts of
    both runs straddle the slices' edges, and rows added after a first keyword run."""
    audit = Audit.init(tmp_path / "a")
    _ingest(audit, cli, tmp_path / "one.parquet", 0, 70)
    assert cli("flag", audit.root, "--flagger", "nsfw-field", "--batch-size", 7).code == 0
    _ingest(audit, cli, tmp_path / "two.parquet", 70, N - 70)
    assert cli("flag", audit.root, "--flagger", "keyword", "--batch-size", 16).code == 0
    audit = Audit.open(audit.root)
    yield audit
    audit.close()


def _reference(audit: Audit) -> tuple[dict[str, str], dict[str, int]]:
    """Each sample's flag set and the samples per (flag set | nsfw) stratum, by pandas."""
    flags = audit.store.flags.table(audit.settings, only_flagged=True).to_pandas()
    flagsets = flags.groupby("sample_id")["flag"].agg(lambda f: "+".join(sorted(set(f))))
    samples = audit.store.query("SELECT sample_id, nsfw FROM samples").to_pandas()
    samples["flagset"] = samples["sample_id"].map(flagsets).fillna("unflagged")
    strata = samples["flagset"] + " | nsfw=" + samples["nsfw"]
    return flagsets.to_dict(), strata.value_counts().to_dict()


@pytest.mark.parametrize("rows", [13, 64, 10**9])
def test_populations_and_flag_counts_are_the_reference_at_any_slice_size(
    flagged: Audit, cli: Cli, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.setattr(slices, "ROWS_PER_SLICE", rows)
    flagsets, strata = _reference(flagged)
    assert len(flagsets) > 40 and any("+" in f for f in flagsets.values())  # overlaps exist

    ran = cli("plan", flagged.root, "--strata", "flag,nsfw", "--margin", 0.2, "--json")
    assert ran.code == 0, ran
    planned = {s["stratum"]: s["population"] for s in json.loads(ran.out)["strata"]}
    assert planned == {s: n for s, n in strata.items() if not s.startswith("unflagged")}

    counts = flagged.store.stats.population_counts(flagged.settings)
    assert counts == {"samples": N, "flagged": len(flagsets), "unflagged": N - len(flagsets)}
    population = flagged.store.stats.flag_population(flagged.settings).to_pylist()
    pairs = {(r["flag_a"], r["flag_b"]): r["items"] for r in population}
    sets = [set(f.split("+")) for f in flagsets.values()]
    expected = {
        (a, b): sum(1 for s in sets if a in s and b in s)
        for s0 in sets for a in s0 for b in s0 if a <= b
    }
    assert pairs == expected


def test_a_sliced_draw_is_the_whole_audit_draw(
    flagged: Audit, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def draw(name: str, rows: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        monkeypatch.setattr(slices, "ROWS_PER_SLICE", rows)
        ran = cli("sample", flagged.root, "--name", name, "--strata", "flag,nsfw",
                  "--per-stratum", 4, "--control", 6, "--seed", 11)
        assert ran.code == 0, ran
        store = Audit.open(flagged.root).store
        items = store.plans.items(name).drop_columns(["position"]).to_pylist()
        strata = store.plans.strata(name).to_pylist()
        return sorted(tuple(r.values()) for r in items), sorted(tuple(r.values()) for r in strata)

    whole = draw("whole", 10**9)
    assert draw("sliced", 9) == whole
    items, strata = whole
    _, expected = _reference(flagged)
    assert sum(r[1] for r in strata if r[1] is not None) >= N - 6  # every sample in a stratum
    assert {r[0] for r in strata} >= set(expected) - {s for s in expected if "unflagged" in s}
    assert len(items) == sum(r[2] for r in strata)


def test_parts_in_span_are_the_parts_holding_the_spans_rows(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, {"flagger": "keyword", "version": "1"}, batch_size=7)
    ranges = [(0, 10), (20, 30), (35, 50), (51, 52)]
    run.write_rows(pa.table({"start": [a for a, _ in ranges], "stop": [b for _, b in ranges]},
                            schema=RANGES_SCHEMA))
    listed = np.concatenate([np.arange(a, b) for a, b in ranges])  # work-list order
    for start in range(0, 56, 3):
        for stop in range(start, 58, 4):
            positions = np.flatnonzero((listed >= start) & (listed < stop))
            assert run.parts_in_span(start, stop) == {int(p) // 7 for p in positions}

