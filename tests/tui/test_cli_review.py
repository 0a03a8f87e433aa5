"""``reviewer review``: bad input ends in one clear line before the app starts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main
from tests.tui.app_fixtures import build_audit


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["review", *args])
    return result.exit_code, result.output


def test_not_an_audit(tmp_path: Path) -> None:
    code, out = _run(str(tmp_path))
    assert code != 0 and "not an audit" in out and "Traceback" not in out


def test_unknown_queue_names_the_known_plans(tmp_path: Path) -> None:
    build_audit(tmp_path / "a").close()
    code, out = _run(str(tmp_path / "a"), "--queue", "nope")
    assert code != 0 and "unknown plan 'nope'" in out


def test_bad_key_map_is_refused(tmp_path: Path) -> None:
    audit = build_audit(tmp_path / "a")
    audit.paths.settings.write_text('[keys]\nconfirm = "n"\n', encoding="utf-8")
    audit.close()
    code, out = _run(str(tmp_path / "a"))
    assert code != 0 and "'n' is bound to both" in out
    audit.paths.settings.write_text('[keys]\nconfrim = "j"\n', encoding="utf-8")
    code, out = _run(str(tmp_path / "a"))
    assert code != 0 and "unknown binding id 'confrim'" in out


def test_unusable_reviewer_name(tmp_path: Path) -> None:
    build_audit(tmp_path / "a").close()
    code, out = _run(str(tmp_path / "a"), "--reviewer", "a\x1b[2Jb")
    assert code != 0 and "not usable" in out


def test_without_a_terminal_it_says_so(tmp_path: Path) -> None:
    build_audit(tmp_path / "a").close()
    code, out = _run(str(tmp_path / "a"), "--reviewer", "ana")
    assert code != 0 and "needs an interactive terminal" in out


def test_plan_queue_for_an_assigned_reviewer_and_not_for_others(tmp_path: Path) -> None:
    from reviewer.tui.queue import load_queue

    audit = build_audit(tmp_path / "a", n=30)
    drawn = CliRunner().invoke(
        main,
        [
            "sample",
            str(audit.root),
            "--name",
            "p",
            "--strata",
            "nsfw",
            "--per-stratum",
            "4",
            "--reviewers",
            "ana,bob",
        ],
    )
    assert drawn.exit_code == 0, drawn.output
    queue = load_queue(audit, "ana", "p")
    assert queue.name == "p" and 0 < len(queue.ids) < 12
    assert list(queue.ids) == [i for i in audit.store.queue_sample_ids("p", "ana")]
    code, out = _run(str(audit.root), "--queue", "p", "--reviewer", "eve")
    assert code != 0 and "no items for reviewer 'eve'" in out
    audit.close()
