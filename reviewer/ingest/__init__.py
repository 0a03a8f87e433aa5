"""Reading LAION-style metadata and image shards into an audit.

:func:`ingest` is the entry point; ``sources`` expands paths, ``readers``
streams Arrow batches, ``columns`` maps names, ``normalize`` repairs and
counts, ``images`` links samples to local images. Nothing here imports Textual.
"""

from reviewer.ingest.run import FileReport, IngestReport, ingest

__all__ = ["FileReport", "IngestReport", "ingest"]
