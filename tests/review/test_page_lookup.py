"""A review page read through the ``sample_id`` key files: the same items as the scan,
after more ingest too, and never a wrong item from a stale key file."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.audit import Audit
from reviewer.store import sample_keys
from reviewer.store.review import ReviewItem, ReviewQueries
from tests.conftest import Cli, SampleRows, sample_rows

N = 90


def _rows(start: int, n: int) -> list[dict[str, object]]:
    rows = sample_rows(start + n)[start:]
    for i, row in enumerate(rows):
        # Ids out of storage order, as LAION's are; every fifth caption hits the keyword list.
        row["sample_id"] = f"{(start + i) * 7919 % 100_003:06d}"
        row["text"] = "an adult film poster" if (start + i) % 5 == 0 else f"caption {start + i}"
    return rows


def _ingest(audit: Audit, cli: Cli, tmp_path: Path, name: str, start: int, n: int) -> None:
    path = tmp_path / name
    pq.write_table(pa.Table.from_pylist(_rows(start, n)), path)
    ran = cli("ingest", audit.root, path)
    assert ran.code == 0, ran


@pytest.fixture
def flagged(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Audit]:
    """An audit of N rows in two files, keyword-flagged in parts of 16 rows, with key files
    of 32 row ids each (several chunks, a partial last one)."""
    monkeypatch.setattr(sample_keys, "CHUNK_ROWS", 32)
    audit = Audit.init(tmp_path / "a")
    _ingest(audit, cli, tmp_path, "one.parquet", 0, 50)
    _ingest(audit, cli, tmp_path, "two.parquet", 50, N - 50)
    ran = cli("flag", audit.root, "--flagger", "keyword", "--batch-size", 16)
    assert ran.code == 0, ran
    audit = Audit.open(audit.root)
    yield audit
    audit.close()


def _scanned(audit: Audit, ids: list[str]) -> dict[str, ReviewItem]:
    """The items as the scan of every ``sample_id`` reads them (no key files)."""
    store = audit.store
    plain = ReviewQueries(store.db, store.flag_views, store.flags, store.probes, keys=None)
    return plain.items(ids, audit.settings)


def _some_ids(audit: Audit) -> list[str]:
    ids = audit.store.query("SELECT sample_id FROM samples ORDER BY rowid").column(0).to_pylist()
    return [ids[i] for i in (0, 3, 5, 31, 32, 40, 64, len(ids) - 1)]


def test_keyed_page_is_the_scanned_page(flagged: Audit) -> None:
    assert flagged.store.sample_keys.build() == 3  # row ids [0, 32), [32, 64), [64, 90)
    ids = [*_some_ids(flagged), "not-a-sample"]
    keyed = flagged.store.review.items(ids, flagged.settings)
    assert keyed == _scanned(flagged, ids)
    assert "not-a-sample" not in keyed
    reasons = {sid: item.reasons for sid, item in keyed.items() if item.flags}
    assert reasons and all(any("adult" in r for r in rs) for rs in reasons.values())


def test_page_lookup_reads_by_key_and_the_parts_that_hold_the_page(
    flagged: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    flagged.store.sample_keys.build()
    ids = _some_ids(flagged)[:3]
    seen: dict[str, object] = {}
    details = flagged.store.flags.details

    def spy(sample_ids: list[str], settings: object, rowids: object = None) -> object:
        seen["rowids"] = rowids
        return details(sample_ids, settings, rowids)  # type: ignore[arg-type]

    monkeypatch.setattr(flagged.store.flags, "details", spy)
    flagged.store.review.items(ids, flagged.settings)
    assert sorted(seen["rowids"]) == [0, 3, 5]  # type: ignore[arg-type]
    run = next(iter(flagged.store.flag_views.score_sources([0, 3, 5]).values()))
    assert "part-00000.parquet" in run[1] and "part-00001.parquet" not in run[1]


def test_rows_ingested_after_the_keys_are_found_then_keyed(
    flagged: Audit, cli: Cli, tmp_path: Path
) -> None:
    keys = flagged.store.sample_keys
    keys.build()
    _ingest(flagged, cli, tmp_path, "three.parquet", N, 20)
    new = [r["sample_id"] for r in _rows(N, 20)]
    ids = [*_some_ids(flagged)[:2], new[0], new[-1]]
    before = flagged.store.review.items(ids, flagged.settings)  # the new rows: by the scan
    assert set(before) == set(ids)
    assert keys.build() == 2  # the grown chunk [64, 96) again, and [96, 110)
    assert [(a, b) for a, b, _ in keys.files()] == [(0, 32), (32, 64), (64, 96), (96, 110)]
    assert {sid for sid, _ in keys.rowids(new)} == set(new)
    assert flagged.store.review.items(ids, flagged.settings) == before == _scanned(flagged, ids)
    assert keys.build() == 0


def test_stale_key_files_never_show_a_wrong_item(flagged: Audit) -> None:
    keys = flagged.store.sample_keys
    keys.build()
    ids = _some_ids(flagged)
    for _, _, path in keys.files():  # every key names another row
        table = pq.read_table(path)
        shifted = pa.array([(r + 1) % N for r in table.column("r").to_pylist()], pa.int64())
        pq.write_table(table.set_column(1, "r", shifted), path)
    assert flagged.store.review.items(ids, flagged.settings) == _scanned(flagged, ids)


def test_key_files_are_sorted_in_row_groups_that_do_not_overlap(
    audit: Audit, add_samples: Callable[[SampleRows], int]
) -> None:
    rows = sample_rows(7_000)
    for i, row in enumerate(rows):
        row["sample_id"] = f"{i * 7919 % 100_003:06d}"
    add_samples(rows)
    keys = audit.store.sample_keys
    assert keys.build() == 1
    ((_, _, path),) = keys.files()
    meta = pq.ParquetFile(path).metadata
    bounds = [
        (meta.row_group(g).column(0).statistics.min, meta.row_group(g).column(0).statistics.max)
        for g in range(meta.num_row_groups)
    ]
    assert meta.num_rows == 7_000 and len(bounds) > 1  # DuckDB's groups hold 2,048 rows at least
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bounds))


def test_sample_builds_the_key_files(flagged: Audit, cli: Cli) -> None:
    ran = cli("sample", flagged.root, "--name", "q", "--strata", "flag", "--per-stratum", 5)
    assert ran.code == 0, ran
    assert [(a, b) for a, b, _ in flagged.store.sample_keys.files()] == [
        (0, 32), (32, 64), (64, 90)
    ]
