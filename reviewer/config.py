"""Typed settings for one audit, read from its ``reviewer.toml``.

Every knob a user may turn lives here, with the reason for its default, so the
TUI, the flaggers and the statistics agree on one set of thresholds. Unknown
keys and wrong types are user errors: a typo in a wellbeing limit must not
silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from reviewer.errors import ReviewerError

T = TypeVar("T")


@dataclass
class ReviewerSection:
    """Who is reviewing."""

    name: str = ""
    """Default reviewer name; empty means the OS user."""


@dataclass
class ReviewSection:
    """How items are shown."""

    image_mode: str = "blur"
    """``blur`` (heavily blurred and grayscale until revealed), ``hidden`` (no image until
    revealed) or ``text-only`` (images are never shown)."""
    reveal_timeout_s: float = 0.0
    """Seconds after which a revealed image returns to the default; 0 keeps it until moving on."""
    seed: int = 0
    """Seed of the default queue order (flagged items in a seeded random order)."""
    breather_every: int = 0
    """Mix one benign 'breather' item in after every N items; 0 turns breathers off."""
    categories: list[str] = field(default_factory=lambda: ["nsfw", "hate", "privacy", "other"])
    """Harm categories a decision can be filed under."""
    default_category: str = "nsfw"
    """Category used until the reviewer picks another with the category key."""


@dataclass
class ImagesSection:
    """Decoding, blurring and fetching of images."""

    preview_px: int = 256
    """Images are shrunk to this size before blurring: blur after downscaling is 4x cheaper."""
    heavy_blur_radius: float = 12.0
    """Gaussian radius (at preview size) of the default step: shapes only, no detail."""
    light_blur_radius: float = 3.0
    """Gaussian radius of the second reveal step."""
    fetch_timeout_s: float = 10.0
    """Timeout for fetching an image from its URL."""
    fetch_max_bytes: int = 20_000_000
    """Images larger than this are refused when fetched."""
    max_pixels: int = 64_000_000
    """Images with more pixels are refused as possible decompression bombs."""


@dataclass
class WellbeingSection:
    """Limits that protect the reviewer. See the README for the evidence behind them."""

    break_every_minutes: float = 25.0
    """Suggest a break after this many minutes of active reviewing (pomodoro-style)."""
    break_after_reveals: int = 20
    """Suggest a break after this many image reveals since the last break."""
    break_after_confirmed: int = 15
    """Suggest a break after this many items confirmed harmful since the last break."""
    break_minutes: float = 5.0
    """Length of the timed pause the break screen offers."""
    daily_reveal_cap: int = 200
    """Reveals per reviewer per day after which the session ends politely; 0 disables."""
    daily_minutes_cap: float = 240.0
    """Minutes of reviewing per day after which the session ends politely; 0 disables."""


@dataclass
class FlagsSection:
    """Thresholds that turn raw scores into flags; changing them never re-scores."""

    keyword_mode: str = "substring"
    """``substring`` (the 2021 audit's rule, for replication) or ``word`` (word boundaries)."""
    keyword_list: str = ""
    """Path of a keyword file; empty means the 2021 audit's list shipped in ``assets/``."""
    hate_threshold: float = 0.5
    """P_hateful / P_targeted / P_aggressive above this flag a caption (hate-scaling audit: 0.5)."""
    punsafe_cuts: list[float] = field(default_factory=lambda: [0.5, 0.9])
    """punsafe below the first cut bins as UNLIKELY, below the second as UNSURE, else NSFW."""
    clip_nsfw_threshold: float = 0.5
    """Zero-shot CLIP NSFW probability above which an image is flagged."""
    clip_similarity_threshold: float = 0.28
    """Image-caption cosine similarity below which a pair is flagged as mismatched
    (LAION used 0.28-0.3)."""


@dataclass
class Settings:
    """All settings of an audit."""

    reviewer: ReviewerSection = field(default_factory=ReviewerSection)
    review: ReviewSection = field(default_factory=ReviewSection)
    images: ImagesSection = field(default_factory=ImagesSection)
    wellbeing: WellbeingSection = field(default_factory=WellbeingSection)
    flags: FlagsSection = field(default_factory=FlagsSection)
    keys: dict[str, str] = field(default_factory=dict)
    """Key overrides by binding id, e.g. ``confirm = "j"``."""

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings from a TOML file; a missing file gives the defaults."""
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ReviewerError(
                f"{path}: not valid TOML ({exc})", "fix the file or delete it to get defaults"
            ) from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "settings") -> Settings:
        """Build settings from a parsed TOML document, refusing unknown keys."""
        settings = cls()
        for key, value in data.items():
            if key == "keys":
                if not isinstance(value, dict) or not all(
                    isinstance(v, str) for v in value.values()
                ):
                    raise ReviewerError(f"{source}: [keys] must map binding ids to key names")
                settings.keys = dict(value)
            elif key in _SECTIONS:
                section = getattr(settings, key)
                _apply(section, value, f"{source} [{key}]")
            else:
                raise ReviewerError(
                    f"{source}: unknown section [{key}]",
                    f"known sections: {', '.join(sorted([*_SECTIONS, 'keys']))}",
                )
        return settings


_SECTIONS = ("reviewer", "review", "images", "wellbeing", "flags")


_FIX_HINT = "fix the value, or delete the line to get its default"


def _section_of(name: str) -> str | None:
    """The section that does define setting ``name`` (a line put under the wrong table)."""
    settings = Settings()
    for key in _SECTIONS:
        if name in {f.name for f in dataclasses.fields(getattr(settings, key))}:
            return key
    return None


def _apply(section: Any, values: Any, where: str) -> None:
    """Copy ``values`` onto a section dataclass, checking names and types."""
    if not isinstance(values, dict):
        raise ReviewerError(f"{where}: expected a table of settings")
    fields = {f.name: f for f in dataclasses.fields(section)}
    for name, value in values.items():
        if name not in fields:
            home = _section_of(name)
            hint = (
                f"'{name}' belongs under [{home}]"
                if home
                else f"known: {', '.join(sorted(fields))}"
            )
            raise ReviewerError(f"{where}: unknown setting '{name}'", hint)
        current = getattr(section, name)
        if isinstance(current, bool) != isinstance(value, bool):
            raise ReviewerError(f"{where}: '{name}' must be {type(current).__name__}", _FIX_HINT)
        if isinstance(current, float) and isinstance(value, int):
            value = float(value)
        if not isinstance(value, type(current)):
            raise ReviewerError(
                f"{where}: '{name}' must be {type(current).__name__}, got {type(value).__name__}",
                _FIX_HINT,
            )
        setattr(section, name, value)


DEFAULT_TOML = """\
# Settings of this audit. Delete a line to get its default back.
# Every value below is the default; see the README for why.

[reviewer]
name = ""                     # default reviewer name; empty = the OS user

[review]
image_mode = "blur"           # blur | hidden | text-only
reveal_timeout_s = 0.0        # revealed image returns to default after N s; 0 = on moving on
seed = 0                      # seed of the default queue order
breather_every = 0            # one benign item after every N; 0 = off
categories = ["nsfw", "hate", "privacy", "other"]
default_category = "nsfw"

[images]
preview_px = 256              # shrink before blurring
heavy_blur_radius = 12.0      # default step: shapes only
light_blur_radius = 3.0       # second step
fetch_timeout_s = 10.0
fetch_max_bytes = 20000000
max_pixels = 64000000         # larger images are refused as decompression bombs

[wellbeing]
break_every_minutes = 25.0
break_after_reveals = 20
break_after_confirmed = 15
break_minutes = 5.0
daily_reveal_cap = 200        # 0 = no cap
daily_minutes_cap = 240.0     # 0 = no cap

[flags]
keyword_mode = "substring"    # substring (2021 audit rule) | word
keyword_list = ""             # empty = assets/keywords/laion400m_2021.txt
hate_threshold = 0.5           # hate flags and HCR: P > this (pysentimiento labels p > 0.5)
punsafe_cuts = [0.5, 0.9]
clip_nsfw_threshold = 0.5
clip_similarity_threshold = 0.28

[keys]
# binding id = key, e.g.  confirm = "j"
"""
