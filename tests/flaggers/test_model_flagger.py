"""ModelFlagger: the loading, pickling, availability and provenance hate and clip share."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reviewer.errors import ReviewerError
from reviewer.flaggers.model_flagger import ModelFlagger


@dataclass
class LoadedModel:
    """Stands for a loaded model: records where it was loaded and its int8 deviation."""

    device: str
    deviation: dict[str, float] = field(default_factory=dict)


class Counting(ModelFlagger[LoadedModel]):
    """A model flagger that counts its loads (and whose weights can go missing)."""

    name: ClassVar[str] = "counting"
    extra_modules: ClassVar[tuple[str, ...]] = ("json",)

    def __init__(self, quantize: bool = False, weights: bool = True) -> None:
        self.device = "cpu"
        self.quantize = quantize
        self.weights = weights
        self.loads = 0
        self.scorer = None

    def check_weights(self) -> None:
        if not self.weights:
            raise ReviewerError("counting: no weights here", "download them")

    def load(self, device: str) -> LoadedModel:
        self.loads += 1
        return LoadedModel(device, {"max_abs": 0.01})

    def run_facts(self) -> dict[str, Any]:
        return {"loads": self.loads}


def test_the_model_loads_once_on_first_use() -> None:
    flagger = Counting()
    assert flagger.scorer is None  # nothing loaded at construction
    assert flagger.loaded().device == "cpu"
    flagger.prepare()
    assert flagger.loads == 1


def test_pickling_leaves_the_model_behind_and_keeps_the_settings() -> None:
    flagger = Counting(quantize=True)
    flagger.prepare()
    clone = pickle.loads(pickle.dumps(flagger))
    assert clone.scorer is None and clone.quantize is True and clone.loads == 1
    assert flagger.scorer is not None  # the original keeps its model


def test_unavailable_names_the_missing_extra_or_weights() -> None:
    assert Counting().unavailable() is None
    assert Counting(weights=False).unavailable() == "counting: no weights here — download them"

    class NeedsMissing(Counting):
        extra_modules: ClassVar[tuple[str, ...]] = ("json", "reviewer_no_such_module_x")

    assert NeedsMissing().unavailable() == (
        "needs the [ml] extra (json, reviewer_no_such_module_x)"
    )


def test_provenance_has_device_facts_and_int8_deviation_only_when_quantized() -> None:
    plain, int8 = Counting(), Counting(quantize=True)
    assert plain.extra_provenance() == {"device": None, "loads": 0}
    plain.prepare()
    int8.prepare()
    assert plain.extra_provenance() == {"device": "cpu", "loads": 1}
    assert int8.extra_provenance() == {
        "device": "cpu",
        "loads": 1,
        "int8_deviation": {"max_abs": 0.01},
    }
