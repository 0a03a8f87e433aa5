"""Image paths given in metadata (an ``image_path`` column): kept inside their root.

Images are never copied or decoded at ingest; it only records where they are
(``image_ref = "<root_id>:<member>"``). Links proven by img2dataset records are
made in :mod:`reviewer.ingest.evidence`. Paths given in metadata must stay inside
their root: ``../`` escapes are refused and counted.
"""

from __future__ import annotations

import posixpath


def safe_member(member: str) -> str | None:
    """The member as a normalised relative path, or ``None`` if it would leave its root."""
    if not member or member.startswith(("/", "\\")) or "\x00" in member:
        return None
    norm = posixpath.normpath(member.replace("\\", "/"))
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm
