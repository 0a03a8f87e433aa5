"""What values one setting accepts (:class:`Rule`), below every module that declares settings.

Settings are declared in two places that must check them the same way: the sections of
:mod:`reviewer.config` and the ``[flags]`` settings each flagger declares in
:mod:`reviewer.flag_specs` (which sits below config, so config can build the ``[flags]``
section from it). Both use this one :class:`Rule`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """What values one setting accepts: the single source its loader checks and its error
    message quotes. Numbers outside ``[low, high]`` (``low`` excluded when ``above``) and
    strings outside ``choices`` are refused; a list's every item is checked."""

    low: float | None = None
    high: float | None = None
    above: bool = False
    choices: tuple[str, ...] = ()
    off: str = ""
    """Set when ``0`` is the documented way to switch the rule off: what 0 means."""
    min_items: int = 0
    max_items: int | None = None
    increasing: bool = False
    pattern: str = ""
    """A regular expression a string must match (``example`` shows one that does)."""
    example: str = ""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or ``None``."""
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list):
            if len(value) < self.min_items:
                return "is empty" if not value else f"needs at least {self.min_items} items"
            if self.max_items is not None and len(value) > self.max_items:
                return f"has more than {self.max_items} items"
            if self.increasing and sorted(value) != value:
                return "is not increasing"
            if self.choices == () and len(set(map(str, value))) != len(value):
                return "repeats an item"
        for item in items:
            if self.choices and item not in self.choices:
                return "is not allowed"
            if self.pattern and not re.match(self.pattern, str(item), re.IGNORECASE):
                return f"is not {self.example.split(':')[0]}"
            if isinstance(item, str) and not item.strip() and self.min_items:
                return "holds an empty name"
            if isinstance(item, int | float) and not isinstance(item, bool):
                if self.off and item == 0:
                    continue
                if self.low is not None and (item < self.low or (self.above and item == self.low)):
                    return "is too small"
                if self.high is not None and item > self.high:
                    return "is too large"
        return None

    def allowed(self) -> str:
        """The accepted values, in words (``0 (no cap) or 1 to 100000``)."""
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.pattern:
            return self.example.split(":", 1)[1].strip()
        low = "" if self.low is None else f"{'above ' if self.above else ''}{self.low:g}"
        if self.low is not None and self.high is not None:
            span = f"{low} {'and at most' if self.above else 'to'} {self.high:g}"
        elif self.low is not None:
            span = f"{low} or more" if not self.above else low
        elif self.high is not None:
            span = f"at most {self.high:g}"
        else:
            span = "any value"
        if self.increasing:
            span = f"increasing values in [{self.low:g}, {self.high:g}]"
            return f"a list of {self.min_items} or more {span}"
        if self.min_items:
            most = f" to {self.max_items}" if self.max_items else " or more"
            span = f"a list of {self.min_items}{most} distinct items" + (
                "" if span == "any value" else f", {span}"
            )
        return f"0 ({self.off}) or {span}" if self.off else span
