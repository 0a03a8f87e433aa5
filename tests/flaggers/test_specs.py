"""Each flagger is declared once (flag_specs.SPECS); registry, rules and [flags] come from it."""

from __future__ import annotations

import dataclasses
import importlib.util
import tomllib

import pyarrow as pa
import pytest

from reviewer import config
from reviewer.config import DEFAULT_TOML, Settings, flags_section, flags_toml
from reviewer.errors import ReviewerError
from reviewer.flag_specs import (
    FLAG_NAMES,
    HATE_THRESHOLD,
    PUNSAFE_CUTS,
    SCORE_COLUMNS,
    SPECS,
    FlaggerSpec,
    FlagSetting,
    flag_settings,
)
from reviewer.flaggers.registry import FLAGGERS, flagger_class
from reviewer.setting_rule import Rule
from reviewer.store.flag_rules import RULES

TOY_THRESHOLD = FlagSetting(
    "toy_threshold", float, 0.25, Rule(low=0, high=1), comment="toy flags: score >= this"
)
TOY_MODES = FlagSetting("toy_modes", list[str], ["a"], Rule(choices=("a", "b"), min_items=1))
WITH_TOY = {
    **SPECS,
    "toy": FlaggerSpec(
        name="toy",
        flagger="tests.toy:ToyFlagger",
        score_columns={"p_toy": pa.float64()},
        flags=("toy",),
        settings=(TOY_THRESHOLD, TOY_MODES),
    ),
}


def test_registry_maps_and_rules_come_from_the_specs() -> None:
    assert list(FLAGGERS) == list(SPECS) == list(FLAG_NAMES) == list(SCORE_COLUMNS) == list(RULES)
    assert FLAGGERS["hate"] == "reviewer.flaggers.hate:HateFlagger"
    assert FLAG_NAMES["clip"] == ("clip_nsfw", "clip_mismatch")


def test_each_rule_writes_the_flags_its_spec_declares() -> None:
    for spec in SPECS.values():
        selects = RULES[spec.name]("scores_x", "run-1", Settings().flags)
        written = [flag for flag in spec.flags if any(f"'{flag}' AS flag" in s for s in selects)]
        assert written == list(spec.flags), spec.name
        assert len(selects) == len(spec.flags), spec.name


def test_the_flags_section_is_every_declared_setting_at_its_default() -> None:
    flags = Settings().flags
    declared = flag_settings(SPECS)
    assert [f.name for f in dataclasses.fields(flags)] == [s.name for s in declared]
    assert {s.name: flags[s] for s in declared} == {s.name: s.default for s in declared}
    assert flags[HATE_THRESHOLD] == 0.5 and flags[PUNSAFE_CUTS] == [0.5, 0.9]
    flags[PUNSAFE_CUTS].append(1.0)  # a list default is a copy, never the declaration's
    assert PUNSAFE_CUTS.default == [0.5, 0.9] and Settings().flags[PUNSAFE_CUTS] == [0.5, 0.9]


def test_the_default_toml_flags_table_is_generated_from_the_specs() -> None:
    table = tomllib.loads(DEFAULT_TOML)["flags"]
    assert list(table.items()) == [(s.name, s.default) for s in flag_settings(SPECS)]
    assert f"[flags]\n{flags_toml(SPECS)[len('[flags]') + 1:]}" in DEFAULT_TOML
    assert '\nkeyword_mode = "substring"    # substring (2021 audit rule) | word\n' in DEFAULT_TOML


@pytest.mark.parametrize("item", flag_settings(SPECS), ids=lambda s: s.name)
def test_every_declared_setting_is_checked_by_the_loader(item: FlagSetting[object]) -> None:
    rule = item.rule
    if rule is None:
        pytest.skip(f"{item.name} accepts any {item.kind}")
    bad = "nope" if rule.choices else (rule.high or 0) + 1
    value = [bad] if isinstance(item.default, list) else bad
    with pytest.raises(ReviewerError) as caught:
        Settings.from_dict({"flags": {item.name: value}})
    line = caught.value.one_line()
    assert f"[flags]: {item.name} = " in line and rule.allowed() in line, line


def test_a_new_spec_adds_its_settings_with_defaults_and_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = flags_toml(WITH_TOY)
    assert "\ntoy_threshold = 0.25          # toy flags: score >= this\n" in text
    assert text.endswith('\ntoy_modes = ["a"]\n') and "\nhate_threshold = 0.5" in text

    monkeypatch.setattr(config, "GeneratedFlagsSection", flags_section(WITH_TOY))
    flags = Settings().flags
    assert flags[TOY_THRESHOLD] == 0.25 and flags[TOY_MODES] == ["a"]
    assert flags[HATE_THRESHOLD] == 0.5

    loaded = Settings.from_dict({"flags": {"toy_threshold": 1, "toy_modes": ["b", "a"]}})
    assert loaded.flags[TOY_THRESHOLD] == 1.0 and isinstance(loaded.flags[TOY_THRESHOLD], float)
    assert loaded.flags[TOY_MODES] == ["b", "a"]
    for value, fragment in [
        (1.5, "toy_threshold = 1.5 is too large"),
        ("x", 'toy_threshold = "x" must be float, got str'),
    ]:
        with pytest.raises(ReviewerError) as caught:
            Settings.from_dict({"flags": {"toy_threshold": value}})
        assert fragment in caught.value.one_line()
        assert "allowed: 0 to 1; default 0.25" in caught.value.one_line()
    with pytest.raises(ReviewerError, match='toy_modes = \\["c"\\] is not allowed'):
        Settings.from_dict({"flags": {"toy_modes": ["c"]}})
    with pytest.raises(ReviewerError) as caught:
        Settings.from_dict({"review": {"toy_threshold": 0.5}})
    assert "'toy_threshold' belongs under [flags]" in caught.value.one_line()


def test_a_setting_declared_twice_differently_is_refused() -> None:
    clash = FlagSetting("hate_threshold", float, 0.7)
    twice = {**SPECS, "toy": dataclasses.replace(WITH_TOY["toy"], settings=(clash,))}
    with pytest.raises(ValueError, match="hate_threshold is declared twice"):
        flag_settings(twice)
    shared = {**SPECS, "toy": dataclasses.replace(WITH_TOY["toy"], settings=(HATE_THRESHOLD,))}
    assert flag_settings(shared) == flag_settings(SPECS)


@pytest.mark.parametrize("name", list(SPECS))
def test_flagger_classes_match_their_spec(name: str) -> None:
    if name in ("hate", "clip") and importlib.util.find_spec("torch") is None:
        pytest.skip("the ML extra is not installed")
    cls = flagger_class(name)
    assert cls.name == name
    assert dict(cls.columns) == SPECS[name].score_columns
