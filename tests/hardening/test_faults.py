"""Fault injection: damaged files, a read-only audit, a full disk, a held DuckDB lock.

Every case ends in one line ``error: <what> — <what to do>``, a non-zero exit and an
audit whose files are exactly as before (nothing already saved is lost).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import Cli, assert_one_line_error

from reviewer.audit import Audit
from reviewer.errors import AuditBusyError
from reviewer.store.connection import ConnectionFactory
from reviewer.store.runs import RunDir

from .conftest import snapshot

_DUCKDB_HEADER = 3 * 4096  # DuckDB's file header: magic block and two database headers


def damage_sqlite_page(path: Path, page: int) -> None:
    """Overwrite one page of an SQLite file with a pattern that is no valid b-tree page."""
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    with path.open("r+b") as handle:
        handle.seek(size * (page - 1))
        handle.write(b"\xa5" * size)


def damage_samples_block(database: Path) -> None:
    """Overwrite data inside one block that holds ``samples.sample_id`` rows (every command
    reads ids; its checksum then fails when the block is read)."""
    with duckdb.connect(str(database), read_only=True) as conn:
        block_size = conn.execute("SELECT block_size FROM pragma_database_size()").fetchone()
        blocks = conn.execute(
            "SELECT max(block_id) FROM pragma_storage_info('samples')"
            " WHERE block_id >= 0 AND column_name = 'sample_id'"
        ).fetchone()
    assert block_size and blocks and blocks[0] is not None
    with database.open("r+b") as handle:
        handle.seek(_DUCKDB_HEADER + blocks[0] * block_size[0] + 64)
        handle.write(b"\x5a" * 4096)


def a_score_part(root: Path, flagger: str = "keyword") -> Path:
    return sorted((root / "scores" / flagger).glob("*/part-*.parquet"))[0]


# ---- damaged files --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["info"], ["stats"], ["export", "--out", "{tmp}/x.csv"],
                                     ["review", "--reviewer", "ana"]])
def test_a_damaged_label_page_is_one_line_and_review_refuses(
    demo: Path, tmp_path: Path, cli: Cli, command: list[str]
) -> None:
    damage_sqlite_page(demo / "labels" / "labels.sqlite", 2)
    before = snapshot(demo)
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    line = assert_one_line_error(cli(command[0], demo, *args), "labels.sqlite",
                                 "label store is damaged", "restore", "reviewer doctor")
    assert "Traceback" not in line
    assert snapshot(demo) == before


@pytest.mark.parametrize("command", [["info"], ["stats"], ["export", "--out", "{tmp}/x.csv"],
                                     ["flag", "--flagger", "keyword", "--no-resume"],
                                     ["review", "--reviewer", "ana"]])
def test_a_damaged_duckdb_block_is_one_line(
    demo: Path, tmp_path: Path, cli: Cli, command: list[str]
) -> None:
    damage_samples_block(demo / "audit.duckdb")
    before = snapshot(demo)
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    ran = cli(command[0], demo, *args)
    if command[0] == "review" and "interactive terminal" in ran.err:
        pytest.skip("review reads no samples before it asks for a terminal")
    assert_one_line_error(ran, "audit.duckdb", "damaged", "restore audit.duckdb")
    assert snapshot(demo) == before


@pytest.mark.parametrize("command", [["info"], ["stats"], ["export", "--out", "{tmp}/x.csv"]])
@pytest.mark.parametrize("damage", ["footer", "middle"])
def test_an_unreadable_score_part_is_named_with_the_way_out(
    demo: Path, tmp_path: Path, cli: Cli, command: list[str], damage: str
) -> None:
    part = a_score_part(demo)
    data = bytearray(part.read_bytes())
    if damage == "footer":
        data[-8:] = b"\x00" * 8
    else:
        data[len(data) // 2: len(data) // 2 + 200] = os.urandom(200)
    part.write_bytes(bytes(data))
    before = snapshot(demo)
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    assert_one_line_error(cli(command[0], demo, *args), str(part), "score file is damaged",
                          "--flagger keyword --no-resume")
    assert snapshot(demo) == before


def test_a_new_flag_run_recovers_from_a_damaged_part(demo: Path, cli: Cli) -> None:
    a_score_part(demo).write_bytes(b"PAR1 not really")
    assert cli("info", demo).code != 0
    assert cli("flag", demo, "--flagger", "keyword", "--no-resume").code == 0
    ran = cli("info", demo)
    assert ran.code == 0 and "keyword (20)" in ran.out


def test_a_damaged_run_json_is_a_warning_not_silence(demo: Path, cli: Cli) -> None:
    run_json = next((demo / "scores" / "keyword").glob("*/run.json"))
    run_json.write_text("{not json")
    ran = cli("info", demo)
    assert ran.code == 0
    assert "warning:" in ran.err and "run.json" in ran.err and "left out" in ran.err
    assert len(ran.err.strip().splitlines()) == 1


def test_an_emptied_label_file_is_not_read_as_no_labels(demo: Path, cli: Cli) -> None:
    (demo / "labels" / "labels.sqlite").write_bytes(b"")
    assert_one_line_error(cli("info", demo), "0 bytes", "restore labels/labels.sqlite")
    assert (demo / "labels" / "labels.sqlite").stat().st_size == 0


# ---- read-only audit ------------------------------------------------------------------------


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture
def read_only_audit(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo audit on a read-only tmpfs mount when this runs as root; else the same folder
    with every write check answering "no" and every directory creation failing with EROFS."""
    mount = tmp_path / "ro"
    if _mount(mount, "size=32m"):
        shutil.copytree(demo, mount / "demo")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        try:
            yield mount / "demo"
        finally:
            _umount(mount)
        return
    real_access, real_mkdir = os.access, os.mkdir

    def no_write(path: object, mode: int, **kw: object) -> bool:
        return mode != os.W_OK and real_access(path, mode)  # type: ignore[arg-type]

    def refuse(path: object, *args: object, **kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(os, "access", no_write)
    monkeypatch.setattr(os, "mkdir", refuse)
    del real_mkdir
    yield demo


@pytest.mark.parametrize("command", [
    ["ingest", "{src}"], ["flag", "--flagger", "keyword", "--no-resume"],
    ["flag", "--flagger", "all"], ["sample", "--name", "x", "--strata", "nsfw"],
    ["match", "--list", "{list}"], ["groups", "--by", "sha256"],
    ["images", "--images", "{images}"], ["labels", "import", "{labels}"],
    ["review", "--reviewer", "ana"],
])
def test_a_read_only_audit_refuses_writes_in_one_line(
    read_only_audit: Path, cli: Cli, command: list[str], tmp_path: Path
) -> None:
    """Refused up front, with the one message (`reviewer <command>` would change it)."""
    from reviewer.assets import assets_dir

    inputs = {"src": assets_dir() / "demo" / "demo-synthetic.csv",
              "images": assets_dir() / "demo" / "images",
              "list": tmp_path / "known.txt", "labels": tmp_path / "labels.csv"}
    inputs["list"].write_text("md5:" + "0" * 32 + "\n")
    inputs["labels"].write_text("sample_id,reviewer,category,verdict\ndemo-040,bo,nsfw,reject\n")
    words = command[:2] if command[0] == "labels" else command[:1]  # `reviewer labels import`
    args = [a.format(**inputs) for a in command[len(words):]]
    before = snapshot(read_only_audit)
    ran = cli(*words, read_only_audit, *args)
    assert_one_line_error(
        ran, "read-only here", f"`reviewer {' '.join(words)}` would change it", "writable copy"
    )
    assert snapshot(read_only_audit) == before
    ran = cli("info", read_only_audit)
    assert ran.code == 0 and "labels    29" in ran.out


# ---- full disk --------------------------------------------------------------------------------


@pytest.fixture
def full_disk_audit(demo: Path, tmp_path: Path) -> Iterator[Path]:
    """The demo audit on a small tmpfs whose every free byte is then taken."""
    mount = tmp_path / "full"
    if not _mount(mount, "size=8m"):
        pytest.skip("needs root and tmpfs to fill a real disk (the shim test covers the rest)")
    shutil.copytree(demo, mount / "demo")
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
    for chunk in (65536, 512):
        try:
            while os.write(fd, b"\0" * chunk):
                pass
        except OSError:
            pass
    os.close(fd)
    try:
        yield mount / "demo"
    finally:
        _umount(mount)


@pytest.mark.parametrize("command", [
    ["flag", "--flagger", "keyword", "--no-resume"], ["sample", "--name", "x", "--strata", "nsfw"],
    ["export", "--out", "{root}/exports/x.parquet"], ["export", "--out", "{root}/exports/x.csv"],
])
def test_a_full_disk_is_one_line_and_keeps_what_was_saved(
    full_disk_audit: Path, cli: Cli, command: list[str]
) -> None:
    def kept() -> dict[str, bytes]:
        """Samples, plans, labels and settings (an empty DuckDB .wal is no change)."""
        return {k: v for k, v in snapshot(full_disk_audit).items()
                if not k.startswith("scores") and not (k.endswith(".wal") and not v)}

    before = kept()
    args = [a.format(root=full_disk_audit) for a in command[1:]]
    ran = cli(command[0], full_disk_audit, *args)
    assert_one_line_error(ran, "disk full", "free space")
    assert ran.code == 28
    assert kept() == before
    info = cli("info", full_disk_audit)  # reading still works at 0 bytes free
    assert info.code == 0 and "labels    29" in info.out, info


def test_a_failing_part_write_is_disk_full_in_one_line(
    demo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shim where no tmpfs can be mounted: the first score part cannot be written."""

    def no_space(self: RunDir, index: int, table: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunDir, "write_part", no_space)
    before = snapshot(demo / "labels")
    ran = cli("flag", demo, "--flagger", "keyword", "--no-resume")
    assert_one_line_error(ran, "disk full")
    assert ran.code == 28 and snapshot(demo / "labels") == before


def test_flag_on_an_unknown_dataset_leaves_no_run_folder(demo: Path, cli: Cli) -> None:
    runs_before = sorted(p.name for p in (demo / "scores" / "keyword").iterdir())
    assert_one_line_error(cli("flag", demo, "--flagger", "keyword", "--dataset", "nope"),
                          "unknown dataset")
    assert sorted(p.name for p in (demo / "scores" / "keyword").iterdir()) == runs_before


# ---- a DuckDB lock held by another process ----------------------------------------------------


def test_a_lock_held_by_another_process_is_one_line_after_the_wait(demo: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " sys.stdin.read()", str(demo / "audit.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        audit = Audit.open(demo)
        assert isinstance(audit.store.db.factory, ConnectionFactory)
        audit.store.db.factory.busy_timeout_s = 0.2
        with pytest.raises(AuditBusyError) as caught:
            audit.store.samples.summary()
        assert "another process" in caught.value.one_line()
        assert len(caught.value.one_line().splitlines()) == 1
        audit.close()
    finally:
        holder.communicate("")
    assert Audit.open(demo).labels.current_labels().num_rows == 29


def test_running_out_of_duckdb_memory_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    from reviewer.errors import ReviewerError

    audit = Audit.init(tmp_path / "a")
    with pytest.raises(ReviewerError) as raised, audit.store.connect() as conn:
        conn.execute("SET memory_limit = '1MB'")  # what a too small [database] limit does
        conn.execute("SELECT list(i::VARCHAR) FROM range(3000000) t(i)").fetchall()
    assert "ran out of memory" in raised.value.message
    assert "[database] memory_limit" in str(raised.value.hint)
