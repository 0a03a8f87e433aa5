"""Session-scoped tiny models for the ML flagger tests, built offline once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .tiny_models import build_roberta


@pytest.fixture(scope="session")
def tiny_hate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random RoBERTa + trained tokenizer saved with ``save_pretrained``."""
    pytest.importorskip("pysentimiento")
    return build_roberta(tmp_path_factory.mktemp("tiny_hate"))


@pytest.fixture(scope="session")
def tiny_analyzer(tiny_hate_dir: Path) -> Any:
    """pysentimiento's analyzer over the tiny model, through ``create_analyzer``."""
    from reviewer.flaggers.models import load_hate_analyzer

    return load_hate_analyzer(str(tiny_hate_dir))
