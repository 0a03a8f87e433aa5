"""reviewer: a terminal workbench for auditing web-scale image-text datasets.

For notebooks::

    import reviewer
    audit = reviewer.open_audit("my-audit")
    audit.samples().to_pandas()
"""

from __future__ import annotations

__version__ = "0.1.0"

from reviewer.api import AuditHandle, open_audit

__all__ = ["AuditHandle", "__version__", "open_audit"]
