"""What every flagger that runs a model shares: lazy loading, Ray pickling, the extra, int8.

The hate and clip flaggers each load a large model once per process, and only when
scoring starts (``reviewer flag --flagger all`` must be able to skip them cheaply);
they are pickled to Ray actors *without* the model, each actor loading its own;
they cannot run without the ``[ml]`` extra or their weights, which ``unavailable``
must say without a network wait; and their ``run.json`` records the device and,
with ``--quantize``, how far int8 scores moved from fp32. :class:`ModelFlagger`
does these once; a model flagger implements :meth:`ModelFlagger.load` (and, if it
has weights to find, :meth:`ModelFlagger.check_weights`).
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from reviewer.errors import ReviewerError
from reviewer.flaggers.base import Flagger


class ModelScorer(Protocol):
    """What the flagger reads back from its scorer for ``run.json``."""

    device: str
    deviation: dict[str, float]


S = TypeVar("S", bound=ModelScorer)


class ModelFlagger(Flagger, Generic[S]):
    """A flagger whose scores come from a model held by a scorer of type ``S``.

    Subclasses set :attr:`extra_modules`, ``device`` and ``quantize`` (in ``__init__``)
    and implement :meth:`load`.
    """

    extra_modules: ClassVar[tuple[str, ...]] = ("torch",)
    """Modules of the ``[ml]`` extra the model needs; missing ones make it unavailable."""
    device: str = "auto"
    quantize: bool = False
    scorer: S | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the loaded model: Ray actors load their own in ``prepare``."""
        state = dict(vars(self))
        state["scorer"] = None
        return state

    def unavailable(self) -> str | None:
        """Missing extra, or weights not found here (checked locally, no network wait)."""
        for module in self.extra_modules:
            try:
                importlib.import_module(module)
            except ImportError:
                return f"needs the [ml] extra ({', '.join(self.extra_modules)})"
        try:
            self.check_weights()
        except ReviewerError as exc:
            return exc.one_line()
        return None

    def check_weights(self) -> None:
        """Raise :class:`ReviewerError` when the model's weights cannot be found here."""

    def prepare(self) -> None:
        """Load the model once (the device is checked first, so a missing GPU fails fast)."""
        if self.scorer is not None:
            return
        from reviewer.flaggers.models import resolve_device

        self.scorer = self.load(resolve_device(self.device))

    def load(self, device: str) -> S:
        """Load the model onto ``device`` and wrap it in the scorer."""
        raise NotImplementedError

    def loaded(self) -> S:
        """The scorer, loading the model on first use."""
        self.prepare()
        assert self.scorer is not None
        return self.scorer

    def run_facts(self) -> dict[str, Any]:
        """Facts of this flagger learnt while scoring (counts of unscored items ...)."""
        return {}

    def extra_provenance(self) -> dict[str, Any]:
        """Device, the flagger's own facts and, with int8, the deviation from fp32.

        Kept out of :meth:`provenance` (which identifies the run for resuming) because
        it is only known after scoring; the engines store it in ``run.json``'s ``extra``.
        """
        info: dict[str, Any] = {"device": self.scorer.device if self.scorer else None}
        info.update(self.run_facts())
        if self.quantize and self.scorer is not None:
            info["int8_deviation"] = self.scorer.deviation
        return info
