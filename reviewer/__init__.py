"""reviewer: a terminal workbench for auditing web-scale image-text datasets.

For notebooks::

    import reviewer
    audit = reviewer.open_audit("my-audit")
    audit.samples().to_pandas()
"""

from __future__ import annotations

from reviewer.api import AuditHandle, open_audit
from reviewer.version import __version__

__all__ = ["AuditHandle", "__version__", "open_audit"]
