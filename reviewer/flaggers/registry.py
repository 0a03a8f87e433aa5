"""Flagger names -> classes, imported only when asked for.

The hate and clip flaggers pull in torch, transformers and open_clip; importing
them for ``reviewer flag --flagger keyword`` (or for the TUI) would cost seconds
and fail where the ML extra is not installed. So the registry maps names to
the ``module:Class`` strings of their specs (:data:`reviewer.flag_specs.SPECS`)
and imports on demand, turning a missing module into a
clean "not available" reason instead of a traceback.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from reviewer.errors import ReviewerError
from reviewer.flag_specs import SPECS
from reviewer.flaggers.base import Flagger

FLAGGERS: dict[str, str] = {name: spec.flagger for name, spec in SPECS.items()}
"""Every known flagger's ``module:Class``, in the order ``--flagger all`` runs them."""


def canonical_name(name: str) -> str:
    """``nsfw-field`` -> ``nsfw_field``; unknown names raise a clear error listing known ones."""
    key = name.strip().lower().replace("-", "_")
    if key not in FLAGGERS:
        known = ", ".join(n.replace("_", "-") for n in FLAGGERS)
        raise ReviewerError(f"unknown flagger '{name}'", f"known flaggers: {known}, all")
    return key


def flagger_class(name: str) -> type[Flagger]:
    """Import the class of a flagger.

    Raises:
        ReviewerError: unknown name, or its module cannot be imported here.
    """
    key = canonical_name(name)
    module_name, _, class_name = FLAGGERS[key].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ReviewerError(
            f"flagger '{key}' is not available ({exc})",
            "install the ML extra: pip install 'reviewer[ml]'",
        ) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        cls = next(
            (
                obj
                for obj in vars(module).values()
                if inspect.isclass(obj) and issubclass(obj, Flagger) and obj.name == key
            ),
            None,
        )
    if cls is None:
        raise ReviewerError(f"flagger '{key}' is not available (no class in {module_name})")
    return cls


def create_flagger(name: str, **options: Any) -> Flagger:
    """Build a flagger from CLI-style options, passing only those its ``__init__`` accepts.

    Options that are ``None`` (not given) are dropped, so each flagger keeps its own
    defaults. ``audit`` and ``settings`` are passed when the flagger declares them.
    """
    cls = flagger_class(name)
    if cls.__init__ is object.__init__:
        return cls()
    signature = inspect.signature(cls.__init__)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    accepted = {
        key: value
        for key, value in options.items()
        if value is not None and (takes_any or key in signature.parameters)
    }
    return cls(**accepted)
