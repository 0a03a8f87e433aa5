"""Deleting a sample's pixels from the audit's image cache (escalation, list matches).

An escalated or list-matched sample must never be shown again, and its pixels
must not linger on disk. The cache holds fetched originals under
:func:`reviewer.images.fetch.cache_path` (which hashes hostile ids) and any file
named ``<sample_id>`` or ``<sample_id>.<ext>``; names are compared as strings,
never joined into paths, so a hostile sample id cannot point outside the cache.
The folder is walked once for any number of samples.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from reviewer.images.fetch import cache_path

log = logging.getLogger(__name__)


def purge_cached_images(root: Path, sample_ids: Iterable[str]) -> int:
    """Delete every cached file of ``sample_ids`` under ``root``; returns files deleted."""
    ids = {sid for sid in sample_ids if sid}
    if not ids or not root.is_dir():
        return 0
    wanted = {cache_path(root, sid) for sid in ids}
    wanted = {path for path in wanted if path.parent == root}
    deleted = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if path in wanted or _named_for(name, ids):
                deleted += _unlink(path)
    return deleted


def _named_for(name: str, ids: set[str]) -> bool:
    """``name`` is ``<id>`` or ``<id>.<ext>`` for one of ``ids`` (ids with ``/`` never match
    an extension form: they cannot be file names)."""
    if name in ids:
        return True
    stem = name
    while "." in stem:
        stem = stem.rsplit(".", 1)[0]
        if stem in ids and "/" not in stem:
            return True
    return False


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    except OSError:
        log.exception("could not delete %s", path)
        return 0
    return 1
