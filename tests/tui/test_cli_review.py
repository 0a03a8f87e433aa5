"""``reviewer review``: bad input ends in one clear line before the app starts."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.conftest import Cli
from tests.tui.app_fixtures import build_audit


def test_not_an_audit(tmp_path: Path, cli: Cli) -> None:
    code, _, err = cli("review", tmp_path)
    assert code != 0 and "not an audit" in err and "Traceback" not in err


def test_unknown_queue_names_the_known_plans(tmp_path: Path, cli: Cli) -> None:
    build_audit(tmp_path / "a").close()
    code, _, err = cli("review", tmp_path / "a", "--queue", "nope")
    assert code != 0 and "unknown plan 'nope'" in err


def test_bad_key_map_is_refused(tmp_path: Path, cli: Cli) -> None:
    audit = build_audit(tmp_path / "a")
    audit.paths.settings.write_text('[keys]\nconfirm = "n"\n', encoding="utf-8")
    audit.close()
    code, _, err = cli("review", tmp_path / "a")
    assert code != 0 and "'n' is bound to both" in err
    audit.paths.settings.write_text('[keys]\nconfrim = "j"\n', encoding="utf-8")
    code, _, err = cli("review", tmp_path / "a")
    assert code != 0 and "unknown binding id 'confrim'" in err


def test_unusable_reviewer_name(tmp_path: Path, cli: Cli) -> None:
    build_audit(tmp_path / "a").close()
    code, _, err = cli("review", tmp_path / "a", "--reviewer", "a\x1b[2Jb")
    assert code != 0 and "not usable" in err


def test_without_a_terminal_it_says_so(tmp_path: Path, cli: Cli) -> None:
    build_audit(tmp_path / "a").close()
    code, _, err = cli("review", tmp_path / "a", "--reviewer", "ana")
    assert code != 0 and "needs an interactive terminal" in err


def test_plan_queue_for_an_assigned_reviewer_and_not_for_others(tmp_path: Path, cli: Cli) -> None:
    from reviewer.review.queue import load_queue

    audit = build_audit(tmp_path / "a", n=30)
    code, _, err = cli(
        "sample", audit.root, "--name", "p", "--strata", "nsfw", "--per-stratum", "4",
        "--reviewers", "ana,bob",
    )
    assert code == 0, err
    queue = load_queue(audit, "ana", "p")
    assert queue.name == "p" and 0 < len(queue.ids) < 12
    assert list(queue.ids) == [i for i in audit.store.plans.queue_sample_ids("p", "ana")]
    code, _, err = cli("review", audit.root, "--queue", "p", "--reviewer", "eve")
    assert code != 0 and "no items for reviewer 'eve'" in err
    audit.close()


def test_the_next_hint_after_sample_works_as_printed(tmp_path: Path, cli: Cli) -> None:
    """A plan dealt to ana and ben has nothing for the default reviewer (the OS user):
    each printed command names its reviewer, and gets as far as opening the app."""
    build_audit(tmp_path / "my audit", n=30).close()
    code, out, err = cli(
        "sample", tmp_path / "my audit", "--name", "round1", "--strata", "nsfw",
        "--per-stratum", "4", "--reviewers", "ana,ben",
    )
    assert code == 0, err
    hints = out.split("next: ", 1)[1].splitlines()
    assert len(hints) == 2
    for hint, reviewer in zip(hints, ("ana", "ben"), strict=True):
        args = shlex.split(hint)
        assert args[:2] == ["reviewer", "review"] and args[-2:] == ["--reviewer", reviewer]
        code, _, err = cli(*args[1:])
        assert code != 0 and "needs an interactive terminal" in err, err  # only the tty lacks
