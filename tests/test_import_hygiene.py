"""Heavy and UI imports stay where they belong, checked at run time in a fresh interpreter.

The import-linter contracts (pyproject.toml) check the static import graph; this
checks what importing a module really loads, which also catches an import made at
module level through a third-party package. The review app must start in under two
seconds and ``reviewer stats`` must run without the ML extra, so none of the model
stacks may load until a flagger that needs one runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from reviewer.audit import Audit
from tests.conftest import SampleRows, sample_rows

HEAVY = ("torch", "open_clip", "pysentimiento", "transformers", "ray")
UI = ("textual", "textual_image", "textual_plotext")


def loaded_after_import(module: str, watched: tuple[str, ...]) -> list[str]:
    """The ``watched`` top-level packages present in ``sys.modules`` after importing ``module``."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in {list(watched)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "module", ["reviewer.cli", "reviewer.tui.app", "reviewer.stats", "reviewer.api"]
)
def test_entry_points_load_no_model_stack(module: str) -> None:
    assert loaded_after_import(module, HEAVY) == []


@pytest.mark.parametrize(
    "module",
    [
        "reviewer.store",
        "reviewer.stats",
        "reviewer.export",
        "reviewer.review.session",
        "reviewer.flaggers.registry",
    ],
)
def test_the_core_loads_no_textual(module: str) -> None:
    assert loaded_after_import(module, UI) == []


def test_the_probe_sees_a_loaded_package() -> None:
    """The check itself works: importing the app does load Textual."""
    assert "textual" in loaded_after_import("reviewer.tui.app", UI)


SHORT_COMMAND_NEVER_LOADS = (
    *HEAVY,
    *UI,
    "scipy",
    "statsmodels",
    "krippendorff",
    "PIL",
    "faiss",
    "usearch",
    "pdqhash",
    "pandas",  # ~0.3 s; pyarrow imports it on its first pa.array() / pa.table(numpy)
)
"""What a text flag pass needs none of: each costs start-up on every ``reviewer flag``."""


def test_reviewer_flag_keyword_loads_only_what_it_needs(
    audit: Audit, add_samples: Callable[[SampleRows], int]
) -> None:
    """The command as a user runs it imports only its own command module and store."""
    add_samples(sample_rows(30, text="hot dog"))
    code = (
        "import json, sys\n"
        "from reviewer.cli import main\n"
        "try:\n"
        f"    main(['flag', {str(audit.root)!r}, '--flagger', 'keyword'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "tops = {m.split('.')[0] for m in sys.modules}\n"
        "cmds = sorted(m for m in sys.modules if m.endswith('_cmd'))\n"
        f"print(json.dumps([sorted(tops & {set(SHORT_COMMAND_NEVER_LOADS)!r}), cmds]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "keyword 30" in done.stdout
    loaded, commands = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == []
    assert commands == ["reviewer.cli.flag_cmd"]
