"""Key bindings of the review screen, each with an id so ``[keys]`` in reviewer.toml remaps it.

Reviewers work for hours with one hand on the keys; some keyboards or habits
want other keys (``j``/``k``, a left-handed layout). Every action therefore has a
stable binding id, shown in the footer and the help screen, and the ``[keys]``
table maps ids to keys (``confirm = "j"``). Unknown ids and two actions on one
key are refused before the app starts, so a typo never silently disables a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType

from reviewer.errors import ReviewerError


@dataclass(frozen=True)
class Action:
    """One remappable action: id, default key, Textual action, footer label, help text."""

    id: str
    key: str
    action: str
    label: str
    help: str
    show: bool = True


ACTIONS: tuple[Action, ...] = (
    Action("confirm", "y", "decide('confirm')", "Confirm", "harmful: the flag is right"),
    Action("reject", "n", "decide('reject')", "Reject", "benign: the flag is wrong"),
    Action("unsure", "u", "decide('unsure')", "Unsure", "cannot tell"),
    Action("skip", "s", "decide('skip')", "Skip", "no judgement, no penalty"),
    Action(
        "escalate",
        "e",
        "escalate",
        "Escalate",
        "possibly illegal: press twice; quarantined for everyone at once, cannot be undone",
    ),
    Action(
        "group",
        "g",
        "group",
        "Group",
        "apply the next decision to the item's whole near-duplicate group (asks first)",
        show=False,
    ),
    Action("reveal", "r", "reveal", "Reveal", "show the image one step clearer"),
    Action("hide", "h", "hide", "Hide", "back to the default (blurred or hidden)"),
    Action("undo", "z", "undo", "Undo", "undo your last decision of this session"),
    Action("previous", "left", "previous", "Prev", "previous item", show=False),
    Action("next", "right", "next", "Next", "next item (no decision)", show=False),
    Action("category", "c", "category", "Category", "file decisions under another category"),
    Action("note", "m", "note", "Note", "attach a note to the next decision"),
    Action("stats", "t", "stats", "Stats", "statistics of the audit"),
    Action("help", "question_mark", "help", "Help", "this help"),
    Action("quit", "q", "quit_review", "Quit", "end the session and show its summary"),
)
"""Every action of the review screen, in help-screen order."""

ACTION_IDS = frozenset(a.id for a in ACTIONS)


def bindings() -> list[BindingType]:
    """Textual bindings of the review screen (defaults; the app applies the keymap)."""
    return [
        Binding(a.key, a.action, a.label, show=a.show, tooltip=a.help, id=a.id) for a in ACTIONS
    ]


def effective_keys(overrides: Mapping[str, str]) -> dict[str, str]:
    """Binding id -> key after ``[keys]`` overrides."""
    return {a.id: overrides.get(a.id, a.key) for a in ACTIONS}


def validate_keymap(overrides: Mapping[str, str]) -> dict[str, str]:
    """Check ``[keys]``: known ids, non-empty keys, no key bound to two actions.

    Returns:
        The overrides, ready for ``App.set_keymap``.

    Raises:
        ReviewerError: naming the bad id or the clashing key.
    """
    for binding_id, key in overrides.items():
        if binding_id not in ACTION_IDS:
            raise ReviewerError(
                f"reviewer.toml [keys]: unknown binding id '{binding_id}'",
                f"known ids: {', '.join(sorted(ACTION_IDS))}",
            )
        if not key.strip():
            raise ReviewerError(f"reviewer.toml [keys]: '{binding_id}' has an empty key")
    seen: dict[str, str] = {}
    for binding_id, keys in effective_keys(overrides).items():
        for key in (k.strip() for k in keys.split(",")):
            if key in seen:
                raise ReviewerError(
                    f"reviewer.toml [keys]: '{key}' is bound to both '{seen[key]}' and "
                    f"'{binding_id}'",
                    "give one of them another key",
                )
            seen[key] = binding_id
    return dict(overrides)


def key_label(key: str) -> str:
    """A short printable name of a key for help text (``question_mark`` -> ``?``)."""
    names = {"question_mark": "?", "left": "←", "right": "→", "up": "↑", "down": "↓"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))
