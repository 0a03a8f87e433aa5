"""reviewer: a terminal workbench for auditing web-scale image-text datasets.

For notebooks::

    import reviewer
    audit = reviewer.open_audit("my-audit")
    audit.samples().to_pandas()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewer.version import __version__

if TYPE_CHECKING:
    from reviewer.api import AuditHandle, open_audit

__all__ = ["AuditHandle", "__version__", "open_audit"]


def __getattr__(name: str) -> Any:
    """The notebook API, imported on first use: ``reviewer flag`` (which imports this
    package) must not pay for the whole API, statistics included, at start-up."""
    if name in ("AuditHandle", "open_audit"):
        from reviewer import api

        return getattr(api, name)
    raise AttributeError(f"module 'reviewer' has no attribute {name!r}")
