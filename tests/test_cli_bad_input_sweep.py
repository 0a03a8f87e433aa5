"""Bad input on the command line: one clear line, a non-zero exit, nothing saved is lost.

Each test here is a defect found by a sweep of hostile inputs over every command: an
SQL error or traceback instead of a line, a nonsense option silently accepted, a
half-written file left behind by a full disk.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, SampleRows, assert_one_line_error, sample_rows

from reviewer.audit import Audit
from reviewer.config import DEFAULT_TOML
from reviewer.store import Decision


@pytest.fixture
def filled(audit: Audit, add_samples: Callable[[SampleRows], int]) -> Audit:
    """Six samples, punsafe spread over [0, 1], three labels by two reviewers."""
    add_samples(sample_rows(6, punsafe=0.3))
    for sample_id, reviewer, verdict in [
        ("s00000", "ana", "confirm"), ("s00000", "ben", "confirm"), ("s00001", "ana", "reject"),
    ]:
        audit.labels.record(Decision(sample_id, reviewer, "nsfw", verdict))
    return audit


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """After ``full_disk()``, every text file opened for writing fails its first write
    with ENOSPC, after ``open`` has already created (or truncated) it, as on a full disk."""
    real_open = Path.open

    def failing_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if "w" in mode and "b" not in mode:

            def write(text: str) -> int:
                raise OSError(errno.ENOSPC, "No space left on device", str(self))

            handle.write = write
        return handle

    yield lambda: monkeypatch.setattr(Path, "open", failing_open)


# ---- plan / sample ----------------------------------------------------------------------


def test_plan_refuses_empty_strata_instead_of_an_sql_error(filled: Audit, cli: Cli) -> None:
    assert_one_line_error(cli("plan", filled.root, "--strata", ""), "--strata is empty", code=2)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--strata", "score:keyword", "--bands", "5"], "--bands 5: cut points"),
        (["--strata", "flag,flag"], "--strata lists 'flag' twice"),
        (["--strata", "score:nope"], "unknown flag 'nope'"),
    ],
)
def test_plan_refuses_nonsense_strata_and_bands(
    filled: Audit, args: list[str], fragment: str, cli: Cli
) -> None:
    assert_one_line_error(cli("plan", filled.root, *args), fragment, code=2)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed", str(2**70)], f"--seed {2**70}: out of range"),
        (["--per-stratum", "1000000"], "--per-stratum 1000000: must be between 1 and 999,999"),
        (["--control", "1000000"], "--control 1000000: must be between 0 and 999,999"),
        (["--strata", "score:nope"], "unknown flag 'nope'"),
        # A budget plan names the option the bad flag came from, not --strata
        # (--using nope: tests/stats/audit/test_budget.py).
        (["--budget", "10", "--target", "prevalence", "--using", "a;b"],
         "--using a;b: bad flag name"),
        (["--budget", "10", "--target", "precision:nope"],
         "--target precision:nope: unknown flag 'nope'"),
    ],
)
def test_sample_refuses_values_the_draw_cannot_take(
    filled: Audit, args: list[str], fragment: str, cli: Cli
) -> None:
    result = cli("sample", filled.root, "--name", "p", "--strata", "nsfw", *args)
    assert_one_line_error(result, fragment, code=2)
    assert "--budget" not in args or "--strata" not in result.err, result.err
    assert filled.store.plans.all() == []


# ---- reviewer.toml ------------------------------------------------------------------------


@pytest.mark.parametrize("cuts", ['["a", "b"]', "[]"])
@pytest.mark.parametrize("command", [["stats"], ["plan", "--strata", "punsafe"]])
def test_bad_punsafe_cuts_are_one_line(
    filled: Audit, cuts: str, command: list[str], cli: Cli
) -> None:
    settings = filled.paths.settings
    settings.write_text(
        settings.read_text().replace("punsafe_cuts = [0.5, 0.9]", f"punsafe_cuts = {cuts}")
    )
    result = cli(command[0], filled.root, *command[1:])
    assert_one_line_error(result, "punsafe_cuts", "increasing values in [0, 1]", code=2)


def test_one_punsafe_cut_bands_strata_like_the_flags(filled: Audit, cli: Cli) -> None:
    settings = filled.paths.settings
    settings.write_text(
        settings.read_text().replace("punsafe_cuts = [0.5, 0.9]", "punsafe_cuts = [0.2]")
    )
    result = cli("plan", filled.root, "--strata", "punsafe")
    assert result.code == 0, result
    assert "punsafe=NSFW" in result.out
    assert cli("stats", filled.root).code == 0


def test_a_setting_of_the_wrong_type_says_what_to_do(filled: Audit, cli: Cli) -> None:
    settings = filled.paths.settings
    settings.write_text(
        settings.read_text().replace("break_minutes = 5.0", 'break_minutes = "five"')
    )
    result = cli("info", filled.root)
    assert_one_line_error(result, 'break_minutes = "five" must be float', "delete", code=2)


# ---- stats / report ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [["stats"], ["report", "--out", "r.md"]])
def test_an_unknown_category_is_refused_like_export_does(
    filled: Audit, command: list[str], tmp_path: Path, cli: Cli
) -> None:
    args = [a if a != "r.md" else str(tmp_path / "r.md") for a in command[1:]]
    result = cli(command[0], filled.root, *args, "--category", "nsfww")
    assert_one_line_error(result, "--category nsfww: unknown category", "nsfw, hate", code=2)
    assert not (tmp_path / "r.md").exists()


def test_report_refuses_a_bad_confidence_before_any_work(
    filled: Audit, tmp_path: Path, cli: Cli
) -> None:
    result = cli("report", filled.root, "--out", tmp_path / "r.md", "--confidence", "7")
    assert_one_line_error(result, "--confidence 7.0: must be between 0 and 1", code=2)


def test_report_under_a_file_names_the_file(filled: Audit, tmp_path: Path, cli: Cli) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    result = cli("report", filled.root, "--out", blocker / "r.html")
    assert_one_line_error(result, f"{blocker} is a file, not a folder", code=2)
    assert blocker.read_text() == "mine"


def test_a_full_disk_keeps_the_previous_report(
    filled: Audit, tmp_path: Path, full_disk: Callable[[], None], cli: Cli
) -> None:
    out = tmp_path / "report.md"
    assert cli("report", filled.root, "--out", out).code == 0
    before = out.read_text()
    full_disk()
    result = cli("report", filled.root, "--out", out)
    assert_one_line_error(result, f"{out}: cannot write the report", "free space", code=2)
    assert out.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---- audit folders -------------------------------------------------------------------------


def test_a_file_given_as_the_audit_folder_is_named(tmp_path: Path, cli: Cli) -> None:
    parquet = tmp_path / "part-0.parquet"
    parquet.write_bytes(b"PAR1")
    result = cli("ingest", parquet, parquet)
    assert_one_line_error(result, f"{parquet}: is a file, not an audit folder", code=2)
    assert "reviewer init" not in result.err  # that hint could only fail again


def test_an_audit_whose_labels_folder_is_a_file_is_one_line(audit: Audit, cli: Cli) -> None:
    root = audit.root
    audit.close()
    (root / "labels" / "labels.sqlite").unlink()
    (root / "labels").rmdir()
    (root / "labels").write_text("not a folder")
    assert_one_line_error(cli("info", root), f"{root / 'labels'}: cannot open the audit", code=2)


def test_init_on_a_full_disk_leaves_no_empty_settings_file(
    tmp_path: Path, full_disk: Callable[[], None], monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "audit"
    full_disk()
    assert_one_line_error(cli("init", root), "cannot create the audit folder", code=2)
    monkeypatch.undo()  # space freed
    assert cli("init", root).code == 0
    assert (root / "reviewer.toml").read_text(encoding="utf-8") == DEFAULT_TOML


def test_disk_full_without_a_file_name_prints_no_empty_name(
    filled: Audit, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    def no_space(*_: object) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file")  # as Arrow raises it

    monkeypatch.setattr("reviewer.cli.audit_cmd.audit_summary", no_space)
    result = cli("info", filled.root)
    assert_one_line_error(result, "error: disk full — free space", code=28)


# ---- agreement -----------------------------------------------------------------------------


@pytest.fixture
def ratings(tmp_path: Path) -> Path:
    path = tmp_path / "ratings.csv"
    path.write_text("item,rater,label\n1,a,x\n1,b,x\n2,a,y\n2,b,x\n", encoding="utf-8")
    return path


def test_agreement_refuses_a_negative_seed(ratings: Path, cli: Cli) -> None:
    result = cli("agreement", ratings, "--seed", "-5")
    assert result.code == 2, result
    assert "--seed" in result.err and "Traceback" not in result.err


def test_agreement_refuses_one_column_in_two_roles(ratings: Path, cli: Cli) -> None:
    result = cli("agreement", ratings, "--item", "rater", "--rater", "rater")
    assert_one_line_error(result, f"{ratings}: item and rater are the same column 'rater'", code=2)


def test_agreement_errors_name_the_file(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("item,rater,label\n", encoding="utf-8")
    assert_one_line_error(cli("agreement", path), f"{path}: no rows", code=2)
