"""Near-duplicate groups as the review session sees them: who is grouped with whom.

Loaded once when a session starts, from the groupings ``reviewer groups`` stored
(``pdq`` for the perceptual group shown and decided with ``g``, ``sha256`` for
the exact copies an escalation quarantines at once). Only grouped samples are
held, so an audit without groupings costs nothing.
"""

from __future__ import annotations

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
    return Groups(by_sample(store.members("pdq")), by_sample(store.members("sha256")))
