"""Each flagger is declared once (store.flag_rules.SPECS) and everything else agrees with it."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from reviewer.config import DEFAULT_TOML, FlagsSection
from reviewer.flaggers.registry import FLAGGERS, flagger_class
from reviewer.store.flag_rules import FLAG_NAMES, SCORE_COLUMNS, SPECS


def test_registry_and_maps_come_from_the_specs() -> None:
    assert list(FLAGGERS) == list(SPECS) == list(FLAG_NAMES) == list(SCORE_COLUMNS)
    assert FLAGGERS["hate"] == "reviewer.flaggers.hate:HateFlagger"
    assert FLAG_NAMES["clip"] == ("clip_nsfw", "clip_mismatch")


def test_thresholds_named_by_a_spec_are_settings_documented_in_the_default_toml() -> None:
    fields = {f.name for f in dataclasses.fields(FlagsSection)}
    flags_table = DEFAULT_TOML.split("[flags]", 1)[1].split("[keys]", 1)[0]
    for spec in SPECS.values():
        for name in spec.thresholds:
            assert name in fields, (spec.name, name)
            assert f"\n{name} =" in flags_table, (spec.name, name)


def test_each_rule_writes_the_flags_its_spec_declares() -> None:
    for spec in SPECS.values():
        selects = spec.rule("scores_x", "run-1", FlagsSection())
        written = [flag for flag in spec.flags if any(f"'{flag}' AS flag" in s for s in selects)]
        assert written == list(spec.flags), spec.name
        assert len(selects) == len(spec.flags), spec.name


@pytest.mark.parametrize("name", list(SPECS))
def test_flagger_classes_match_their_spec(name: str) -> None:
    if name in ("hate", "clip") and importlib.util.find_spec("torch") is None:
        pytest.skip("the ML extra is not installed")
    cls = flagger_class(name)
    assert cls.name == name
    assert dict(cls.columns) == SPECS[name].score_columns
