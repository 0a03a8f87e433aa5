"""Typed settings for one audit, read from its ``reviewer.toml``.

Every knob a user may turn lives here, with the reason for its default, so the
TUI, the flaggers and the statistics agree on one set of thresholds. Unknown
keys, wrong types and values out of range are user errors: a typo in a wellbeing
limit must not silently fall back to a default, and a negative cap must not switch
a protection off. Each field carries its :class:`Rule` (range, choices, the meaning
of a documented ``0``), the one source the loader checks and its error message quotes.
The ``[flags]`` knobs are the exception to "lives here": each flagger declares its own in
:mod:`reviewer.flag_specs`, and this module builds the section and its default text from them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
import typing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from reviewer.errors import ReviewerError
from reviewer.flag_specs import SPECS, FlaggerSpec, FlagSetting, flag_settings
from reviewer.setting_rule import Rule

T = TypeVar("T")


def setting(default: Any, rule: Rule | None = None) -> Any:
    """A dataclass field with its (immutable) default and the :class:`Rule` it must obey."""
    return field(default=default, metadata={"rule": rule} if rule is not None else {})


@dataclass
class ReviewerSection:
    """Who is reviewing."""

    name: str = ""
    """Default reviewer name; empty means the OS user."""


@dataclass
class ReviewSection:
    """How items are shown."""

    image_mode: str = setting("blur", Rule(choices=("blur", "hidden", "text-only")))
    """``blur`` (heavily blurred and grayscale until revealed), ``hidden`` (no image until
    revealed) or ``text-only`` (images are never shown)."""
    reveal_timeout_s: float = setting(0.0, Rule(low=0, high=3600))
    """Seconds after which a revealed image returns to the default; 0 keeps it until moving on."""
    seed: int = 0
    """Seed of the default queue order (flagged items in a seeded random order)."""
    breather_every: int = setting(0, Rule(low=1, high=10_000, off="no breathers"))
    """Mix one benign 'breather' item in after every N items; 0 turns breathers off."""
    categories: list[str] = field(
        default_factory=lambda: ["nsfw", "hate", "privacy", "other"],
        metadata={"rule": Rule(min_items=1, max_items=9)},
    )
    """Harm categories a decision can be filed under."""
    default_category: str = "nsfw"
    """Category used until the reviewer picks another with the category key."""
    caption_categories: list[str] = field(
        default_factory=lambda: ["hate"], metadata={"rule": Rule(max_items=9)}
    )
    """Categories judged on the caption. A near-duplicate group shares an image, not a
    caption, so a decision under one of these is never propagated to the group (``g``)."""


@dataclass
class ImagesSection:
    """Decoding, blurring and fetching of images."""

    preview_px: int = setting(256, Rule(low=32, high=1024))
    """Images are shrunk to this size before blurring: blur after downscaling is 4x cheaper."""
    heavy_blur_radius: float = setting(12.0, Rule(low=4, high=64))
    """Gaussian radius (at preview size) of the default step: shapes only, no detail."""
    light_blur_radius: float = setting(3.0, Rule(low=1, high=64))
    """Gaussian radius of the second reveal step."""
    fetch: str = setting("", Rule(choices=("", "never", "on-reveal", "prefetch")))
    """When an image is fetched from its URL (origin servers are contacted): ``never``
    (no socket is ever opened; "no local image"), ``on-reveal`` (only the item a
    reviewer reveals) or ``prefetch`` (the current and next items, before any reveal).
    Empty: ``never`` when the audit has local images, else ``on-reveal``."""
    fetch_other_hosts: bool = False
    """Follow a redirect to another host (refused by default: a redirect can point anywhere)."""
    fetch_timeout_s: float = setting(10.0, Rule(low=0, above=True, high=600))
    """Total deadline for fetching one image (connect, headers and body together)."""
    fetch_max_bytes: int = setting(20_000_000, Rule(low=1024))
    """Images larger than this are refused when fetched."""
    max_pixels: int = setting(64_000_000, Rule(low=65_536))
    """Images with more pixels are refused as possible decompression bombs."""


@dataclass
class WellbeingSection:
    """Limits that protect the reviewer. See the README for the evidence behind them."""

    break_every_minutes: float = setting(25.0, Rule(low=1, high=1440, off="no timed breaks"))
    """Suggest a break after this many minutes of active reviewing (pomodoro-style)."""
    break_after_reveals: int = setting(20, Rule(low=1, off="no break for reveals"))
    """Suggest a break after this many image reveals since the last break."""
    break_after_confirmed: int = setting(15, Rule(low=1, off="no break for confirmed items"))
    """Suggest a break after this many items confirmed harmful since the last break."""
    break_after_full_colour_seconds: float = setting(
        60.0, Rule(low=1, high=86400, off="no break for full-colour time")
    )
    """Suggest a break after this many seconds of images shown in full colour (the last
    reveal step) since the last break, counted from the exposure log's
    ``full_colour_seconds``."""
    break_minutes: float = setting(5.0, Rule(low=1, high=240))
    """Length of the timed pause the break screen offers."""
    daily_reveal_cap: int = setting(200, Rule(low=1, off="no cap"))
    """Reveals per reviewer per day after which the session ends politely; 0 disables."""
    daily_minutes_cap: float = setting(240.0, Rule(low=1, high=1440, off="no cap"))
    """Minutes of reviewing per day after which the session ends politely; 0 disables."""
    daily_full_colour_seconds_cap: float = setting(600.0, Rule(low=1, high=86400, off="no cap"))
    """Seconds of full-colour exposure per reviewer per day (this session and earlier ones
    in the exposure log) after which the session ends politely; 0 disables."""


class FlagsSection:
    """``[flags]``: the thresholds that turn raw scores into flags; changing them never
    re-scores. Its fields are not written here but generated (:func:`flags_section`) from
    the :class:`~reviewer.flag_specs.FlagSetting` each flagger declares in
    :data:`reviewer.flag_specs.SPECS`, so a new flagger's settings are declared once.

    Read and set a value through its declaration, which mypy types:
    ``settings.flags[HATE_THRESHOLD]`` is a ``float``.
    """

    def __getitem__(self, key: FlagSetting[T]) -> T:
        return typing.cast(T, getattr(self, key.name))

    def __setitem__(self, key: FlagSetting[T], value: T) -> None:
        setattr(self, key.name, value)


def flags_section(specs: dict[str, FlaggerSpec]) -> type[FlagsSection]:
    """The ``[flags]`` dataclass of ``specs``: one field per declared setting, with its
    type, default and :class:`Rule`, so the loader checks it like every other setting."""
    fields = [
        (
            item.name,
            item.kind,
            field(
                default_factory=partial(copy.deepcopy, item.default),
                metadata={"rule": item.rule} if item.rule is not None else {},
            ),
        )
        for item in flag_settings(specs)
    ]
    cls = dataclasses.make_dataclass("GeneratedFlagsSection", fields, bases=(FlagsSection,))
    cls.__module__, cls.__doc__ = __name__, FlagsSection.__doc__
    return typing.cast(type[FlagsSection], cls)


GeneratedFlagsSection = flags_section(SPECS)
"""The ``[flags]`` section of :class:`Settings` (named so pickling finds it)."""


# -- [database]: DuckDB memory and spill (issue #16) ---------------------------------


_MEMORY = Rule(
    pattern=r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$",
    example='a size: a number and a unit, e.g. "2GB", "512MB"',
)


@dataclass
class DatabaseSection:
    """DuckDB's memory and spill, so a large audit fits the machine it runs on."""

    memory_limit: str = setting("512MB", _MEMORY)
    """DuckDB's memory limit in each process (e.g. ``"1GB"``, ``"8GB"``); queries that need
    more spill to ``temp_directory``. Peak memory of a command is about this plus ~0.3 GB.
    512 MB because a command that reads every row on one connection (``export``) grows
    to whatever limit it is given while an audit is larger than it, DuckDB caching the
    blocks it has read: measured on 100M rows (before ``plan``, ``sample``, ``stats`` and
    ``report`` read in slices, each on a connection of its own: now 0.3–0.6 GB), 2 GB gave
    peaks of 1.7–2.2 GB and 512 MB 0.6–0.8 GB (issue #16, README "At LAION scale")."""
    temp_directory: str = ""
    """Where DuckDB spills; empty means the audit's ``cache/duckdb_tmp`` (the system's
    temporary folder for a read-only audit). Point it at a fast local disk with room."""


# -- end [database] ----------------------------------------------------------------


@dataclass
class Settings:
    """All settings of an audit."""

    reviewer: ReviewerSection = field(default_factory=ReviewerSection)
    review: ReviewSection = field(default_factory=ReviewSection)
    images: ImagesSection = field(default_factory=ImagesSection)
    wellbeing: WellbeingSection = field(default_factory=WellbeingSection)
    flags: FlagsSection = field(default_factory=lambda: GeneratedFlagsSection())
    """Built from the flaggers' specs (looked up at each call, so a test can add a spec)."""
    database: DatabaseSection = field(default_factory=DatabaseSection)
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
        _check_together(settings, source)
        return settings


_SECTIONS = ("reviewer", "review", "images", "wellbeing", "flags", "database")


def _section_of(name: str) -> str | None:
    """The section that does define setting ``name`` (a line put under the wrong table)."""
    settings = Settings()
    for key in _SECTIONS:
        if name in {f.name for f in dataclasses.fields(getattr(settings, key))}:
            return key
    return None


def _apply(section: Any, values: Any, where: str) -> None:
    """Copy ``values`` onto a section dataclass, checking names, types and rules."""
    if not isinstance(values, dict):
        raise ReviewerError(f"{where}: expected a table of settings")
    fields = {f.name: f for f in dataclasses.fields(section)}
    hints = typing.get_type_hints(type(section))
    for name, value in values.items():
        if name not in fields:
            home = _section_of(name)
            hint = (
                f"'{name}' belongs under [{home}]"
                if home
                else f"known: {', '.join(sorted(fields))}"
            )
            raise ReviewerError(f"{where}: unknown setting '{name}'", hint)
        rule = fields[name].metadata.get("rule")
        try:
            value = _typed(value, hints[name])
            problem = rule.problem(value) if rule is not None else None
        except TypeError as exc:
            problem = str(exc)
        if problem is not None:
            default = getattr(type(section)(), name)
            allowed = f"allowed: {rule.allowed()}; " if rule is not None else ""
            raise ReviewerError(
                f"{where}: {name} = {_toml(value)} {problem}",
                f"{allowed}default {_toml(default)} (delete the line to get it)",
            )
        setattr(section, name, value)


def _typed(value: Any, hint: Any) -> Any:
    """``value`` as the annotated type (an int where a float is wanted becomes a float).

    Raises:
        TypeError: the value (or a list item) has another type; the message says which.
    """
    if typing.get_origin(hint) is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise TypeError(f"must be a list, got {_kind(value)}")
        return [_typed(v, item_type) for v in value]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) != (hint is bool) or not isinstance(value, hint):
        raise TypeError(f"must be {hint.__name__}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return type(value).__name__


def _toml(value: Any) -> str:
    """A value as it is written in ``reviewer.toml``."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_together(settings: Settings, source: str) -> None:
    """Rules that tie two settings together."""
    review, images = settings.review, settings.images
    if review.default_category not in review.categories:
        raise ReviewerError(
            f"{source} [review]: default_category = {_toml(review.default_category)}"
            f" is not one of categories {_toml(review.categories)}",
            "add it to categories or pick one of them; default \"nsfw\"",
        )
    if images.light_blur_radius > images.heavy_blur_radius:
        raise ReviewerError(
            f"{source} [images]: light_blur_radius = {_toml(images.light_blur_radius)} is above"
            f" heavy_blur_radius = {_toml(images.heavy_blur_radius)}",
            "the light step must blur less than the default step; defaults 3.0 and 12.0",
        )


def flags_toml(specs: dict[str, FlaggerSpec]) -> str:
    """The ``[flags]`` table of the default ``reviewer.toml``: each declared setting at its
    default, its comment at column 30 like the hand-written tables."""
    lines = ["[flags]"]
    for item in flag_settings(specs):
        # JSON writes str, bool, int, float and lists of them exactly as TOML does.
        line = f"{item.name} = {json.dumps(item.default, ensure_ascii=False)}"
        lines.append(f"{line:<29} # {item.comment}" if item.comment else line)
    return "\n".join(lines) + "\n"


DEFAULT_TOML = """\
# Settings of this audit. Delete a line to get its default back.
# Every value below is the default; see the README for why. Values are checked when the
# audit is opened: one out of range is refused with the allowed range.

[reviewer]
name = ""                     # default reviewer name; empty = the OS user

[review]
image_mode = "blur"           # blur | hidden | text-only
reveal_timeout_s = 0.0        # revealed image returns to default after N s; 0 = on moving on
seed = 0                      # seed of the default queue order
breather_every = 0            # one benign item after every N; 0 = off
categories = ["nsfw", "hate", "privacy", "other"]
default_category = "nsfw"
caption_categories = ["hate"] # judged on the caption: g never decides a group under them

[images]
preview_px = 256              # shrink before blurring
heavy_blur_radius = 12.0      # default step: shapes only
light_blur_radius = 3.0       # second step
fetch = ""                    # never | on-reveal | prefetch; "" = never if local images
fetch_other_hosts = false     # follow redirects to another host
fetch_timeout_s = 10.0        # total deadline per image
fetch_max_bytes = 20000000
max_pixels = 64000000         # larger images are refused as decompression bombs

[wellbeing]
break_every_minutes = 25.0
break_after_reveals = 20
break_after_confirmed = 15
break_after_full_colour_seconds = 60.0   # seconds in full colour since the last break
break_minutes = 5.0
daily_reveal_cap = 200        # 0 = no cap
daily_minutes_cap = 240.0     # 0 = no cap
daily_full_colour_seconds_cap = 600.0   # seconds in full colour per day; 0 = no cap

""" + flags_toml(SPECS) + """
[database]
memory_limit = "512MB"        # DuckDB's memory per process; beyond it queries spill to disk
temp_directory = ""           # where they spill; empty = cache/duckdb_tmp in the audit

[keys]
# binding id = key, e.g.  confirm = "j"
"""
