"""reviewer.toml: every value the fault sweep slipped through is refused on load.

Each refusal names the table, the key, the allowed values and the default; the
wellbeing limits are switched off only by the documented 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.config import DEFAULT_TOML, Settings
from reviewer.errors import ReviewerError

SWEEP = [
    ("wellbeing", "daily_reveal_cap", "-5", "0 (no cap) or 1 or more", "200"),
    ("wellbeing", "break_after_reveals", "-1", "0 (no break for reveals) or 1 or more", "20"),
    ("wellbeing", "daily_minutes_cap", "-1", "0 (no cap) or 1 to 1440", "240"),
    ("wellbeing", "break_minutes", "-5", "1 to 240", "5"),
    ("wellbeing", "break_every_minutes", "-25", "0 (no timed breaks) or 1 to 1440", "25"),
    ("wellbeing", "break_after_confirmed", "-2", "0 (no break for confirmed items)", "15"),
    ("wellbeing", "break_after_full_colour_seconds", "-1",
     "0 (no break for full-colour time) or 1 to 86400", "60"),
    ("wellbeing", "daily_full_colour_seconds_cap", "-1", "0 (no cap) or 1 to 86400", "600"),
    ("review", "image_mode", '"blurr"', 'one of "blur", "hidden", "text-only"', '"blur"'),
    ("review", "categories", "[]", "a list of 1 to 9 distinct items", '["nsfw", "hate"'),
    ("review", "breather_every", "-3", "0 (no breathers)", "0"),
    ("images", "preview_px", "0", "32 to 1024", "256"),
    ("images", "preview_px", "100000", "32 to 1024", "256"),
    ("images", "light_blur_radius", "0", "1 to 64", "3"),
    ("images", "light_blur_radius", "-3.0", "1 to 64", "3"),
    ("images", "max_pixels", "0", "65536 or more", "64000000"),
    ("images", "fetch_timeout_s", "-1", "above 0 and at most 600", "10"),
    ("images", "fetch_max_bytes", "0", "1024 or more", "20000000"),
    ("flags", "hate_threshold", "7", "0 to 1", "0.5"),
    ("flags", "clip_nsfw_threshold", "1.5", "0 to 1", "0.5"),
    ("flags", "keyword_mode", '"words"', 'one of "substring", "word"', '"substring"'),
    ("flags", "punsafe_cuts", "[0.9, 0.5]", "1 or more increasing values in [0, 1]", "[0.5, 0.9]"),
]


def _with(table: str, key: str, value: str) -> str:
    """The default reviewer.toml with one line changed."""
    lines = DEFAULT_TOML.splitlines()
    start = lines.index(f"[{table}]")
    for i in range(start, len(lines)):
        if lines[i].split("=")[0].strip() == key:
            lines[i] = f"{key} = {value}"
            return "\n".join(lines)
    raise AssertionError(f"{key} not in [{table}]")


@pytest.mark.parametrize(("table", "key", "value", "allowed", "default"), SWEEP)
def test_a_bad_value_is_refused_with_table_key_range_and_default(
    tmp_path: Path, table: str, key: str, value: str, allowed: str, default: str
) -> None:
    path = tmp_path / "reviewer.toml"
    path.write_text(_with(table, key, value))
    with pytest.raises(ReviewerError) as caught:
        Settings.load(path)
    line = caught.value.one_line()
    assert f"[{table}]" in line and key in line, line
    assert allowed in line and f"default {default}" in line, line


@pytest.mark.parametrize(
    ("table", "key", "value", "fragment"),
    [
        ("review", "default_category", '"zzz"', 'default_category = "zzz" is not one of'),
        ("review", "categories", "[1, 2]", "must be str, got int"),
        ("review", "categories", '["a", "a", "nsfw"]', "repeats an item"),
        ("review", "categories", '["nsfw", " "]', "holds an empty name"),
        ("flags", "punsafe_cuts", '["a"]', "must be float, got str"),
        ("images", "light_blur_radius", "20.0", "above heavy_blur_radius"),
        ("wellbeing", "daily_reveal_cap", "true", "must be int, got bool"),
    ],
)
def test_wrong_types_and_inconsistent_values_are_refused(
    tmp_path: Path, table: str, key: str, value: str, fragment: str
) -> None:
    path = tmp_path / "reviewer.toml"
    path.write_text(_with(table, key, value))
    with pytest.raises(ReviewerError, match=None) as caught:
        Settings.load(path)
    assert fragment in caught.value.one_line()


@pytest.mark.parametrize(
    "key", ["daily_reveal_cap", "daily_minutes_cap", "break_after_reveals", "break_every_minutes",
            "break_after_confirmed", "break_after_full_colour_seconds",
            "daily_full_colour_seconds_cap"],
)
def test_the_documented_zero_still_switches_a_wellbeing_rule_off(
    tmp_path: Path, key: str
) -> None:
    path = tmp_path / "reviewer.toml"
    path.write_text(_with("wellbeing", key, "0"))
    assert getattr(Settings.load(path).wellbeing, key) == 0


def test_the_default_file_loads_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "reviewer.toml"
    path.write_text(DEFAULT_TOML)
    assert Settings.load(path) == Settings()
