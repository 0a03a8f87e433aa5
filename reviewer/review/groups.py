"""Near-duplicate groups as the review session sees them: who is grouped with whom.

Loaded once when a session starts, from the groupings ``reviewer groups`` stored
(the newer of ``pdq`` and ``clip`` for the perceptual group shown and decided with
``g``, ``sha256`` for the exact copies an escalation quarantines at once). Only
grouped samples are held, so an audit without groupings costs nothing.

:func:`fold` decides which queued items wait behind a representative: seeing one
picture of a group is enough to judge it, so the others are not shown as items of
their own while the group is undecided (the rule is spelled out there).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from reviewer.audit import Audit

Group = tuple[str, tuple[str, ...]]
"""``(group_id, members)``, members in sample-id order."""


@dataclass(frozen=True)
class Groups:
    """Perceptual (``near``) and exact (``exact``) groups by sample id."""

    near: dict[str, Group] = field(default_factory=dict)
    exact: dict[str, Group] = field(default_factory=dict)

    def of(self, sample_id: str) -> Group | None:
        """The group decided with ``g``: the perceptual one, else the exact one."""
        return self.near.get(sample_id) or self.exact.get(sample_id)


def by_sample(members: pa.Table) -> dict[str, Group]:
    """``group_id, sample_id`` rows -> each member's group."""
    groups: dict[str, list[str]] = {}
    for gid, sid in zip(
        members.column("group_id").to_pylist(), members.column("sample_id").to_pylist(),
        strict=True,
    ):
        groups.setdefault(gid, []).append(sid)
    return {sid: (gid, tuple(ids)) for gid, ids in groups.items() for sid in ids}


def load_groups(audit: Audit) -> Groups:
    """The audit's stored groupings (empty when ``reviewer groups`` was never run)."""
    store = audit.store.groups
    return Groups(by_sample(store.members(store.perceptual())), by_sample(store.members("sha256")))


def fold(
    ids: Sequence[str], groups: Groups, decided: Collection[str], keep: Collection[str] = ()
) -> dict[str, tuple[str, ...]]:
    """Representative -> the other members of its group that wait folded behind it.

    The rule: in queue order, the first queued member of a group is its
    representative; the group's later members in the same queue are folded behind
    it, as long as the group is undecided, i.e. no member has a standing decision
    by this reviewer (``decided``). A group where the reviewer already judged a
    member (an earlier session judged the representative alone) is not folded
    again: its members are ordinary items. ``keep`` (breathers) never fold nor
    represent. Groups with a single queued member fold nothing.

    What happens next is the session's part: ``g`` and a decision propagate it to
    every member; a decision on the representative without ``g`` brings the folded
    members back as ordinary items; undoing that decision folds them again.
    """
    undecided: dict[str, bool] = {}
    reps: dict[str, str] = {}
    folded: dict[str, list[str]] = {}
    for sid in ids:
        if sid in keep:
            continue
        group = groups.of(sid)
        if group is None:
            continue
        group_id, members = group
        if group_id not in undecided:
            undecided[group_id] = not any(m in decided for m in members)
        if not undecided[group_id]:
            continue
        rep = reps.setdefault(group_id, sid)
        if rep != sid:
            folded.setdefault(rep, []).append(sid)
    return {rep: tuple(members) for rep, members in folded.items()}


@dataclass
class Folding:
    """Which queued items are held back behind their group's representative, as decisions
    come and go during a session (the rule: :func:`fold`).

    Args:
        folded: Representative -> members held back behind it.
    """

    folded: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._held = {m for members in self.folded.values() for m in members}
        self._released: dict[str, tuple[str, ...]] = {}

    def __contains__(self, sample_id: object) -> bool:
        """Whether ``sample_id`` is held back (not shown as an item of its own)."""
        return sample_id in self._held

    def behind(self, rep: str | None) -> tuple[str, ...]:
        """The members held back behind ``rep`` (empty: not a representative)."""
        return self.folded.get(rep or "", ())

    def release(self, rep: str) -> tuple[str, ...]:
        """``rep`` was decided (or taken away): its members become ordinary items; kept so
        that undoing the decision can hold them back again. Returns them."""
        members = self.folded.pop(rep, ())
        self._held.difference_update(members)
        if members:
            self._released[rep] = members
        return members

    def representatives_in(self, sample_ids: set[str]) -> list[str]:
        """Representatives among ``sample_ids`` (e.g. just quarantined elsewhere)."""
        return list(self.folded.keys() & sample_ids)

    def undone(self, rep: str, waiting: Callable[[str], bool]) -> None:
        """``rep``'s decision was undone: the group is undecided again, so the members it
        released for which ``waiting`` holds (no own decision, not quarantined) are held
        back behind it again."""
        members = tuple(m for m in self._released.pop(rep, ()) if waiting(m))
        if members:
            self.folded[rep] = members
            self._held.update(members)
