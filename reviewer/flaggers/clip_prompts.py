"""Zero-shot prompt sets of the CLIP flagger: which texts count as safe and unsafe.

``p_nsfw`` is the softmax mass on the unsafe prompts, so the prompt set decides
what the score means; it is part of a run's identity. Prompt sets live in
``assets/prompts/*.toml`` (``safe = [...]``, ``unsafe = [...]``) or ``.txt``
files (``safe: ...`` / ``unsafe: ...`` lines).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.assets import ASSETS
from reviewer.errors import ReviewerError

PROMPTS_DIR = ASSETS / "prompts"
DEFAULT_PROMPTS = PROMPTS_DIR / "nsfw_default.toml"


@dataclass(frozen=True)
class PromptSet:
    """Safe and unsafe prompts; ``p_nsfw`` is the softmax mass on the unsafe ones."""

    safe: tuple[str, ...]
    unsafe: tuple[str, ...]
    source: str = ""

    @property
    def prompts(self) -> list[str]:
        return [*self.safe, *self.unsafe]


def load_prompts(path: str | Path | None = None) -> PromptSet:
    """Read a prompt set (``.toml`` or ``.txt``); both lists must be non-empty.

    Raises:
        ReviewerError: missing or malformed file.
    """
    file = Path(path).expanduser() if path else DEFAULT_PROMPTS
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReviewerError(f"--prompts {file}: cannot read ({exc.strerror})") from exc
    if file.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ReviewerError(f"--prompts {file}: not valid TOML ({exc})") from exc
    else:
        data = {"safe": [], "unsafe": []}
        for line in text.splitlines():
            kind, sep, prompt = line.partition(":")
            if sep and kind.strip() in data and prompt.strip():
                data[kind.strip()].append(prompt.strip())
    safe, unsafe = data.get("safe") or [], data.get("unsafe") or []
    if not _strings(safe) or not _strings(unsafe):
        raise ReviewerError(
            f"--prompts {file}: needs non-empty lists of strings 'safe' and 'unsafe'",
            "see assets/prompts/nsfw_default.toml",
        )
    return PromptSet(tuple(safe), tuple(unsafe), str(file))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
