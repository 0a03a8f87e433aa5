"""SQL of image links: registering image roots, reading what linking needs, setting refs.

Linking itself (which image is proven to be which sample's) is decided in
:mod:`reviewer.ingest.evidence`; this module only reads the samples' url, caption
and ids in bounded batches and writes the resulting ``image_ref`` values back in
one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from reviewer.store.core import Database
from reviewer.store.ingested import IngestQueries

LINK_BATCH_ROWS = 65_536


class ImageLinkQueries:
    """What ``reviewer images`` and ``ingest --images`` read and write (``store.images``).

    Args:
        db: The audit database.
        ingest: Owns the ``image_roots`` table (roots are registered through it).
    """

    def __init__(self, db: Database, ingest: IngestQueries) -> None:
        self.db = db
        self.ingest = ingest

    def register_roots(self, roots: list[tuple[Path, str]]) -> dict[tuple[Path, str], int]:
        """Ids of the given ``(path, kind)`` roots, created where new (one transaction)."""
        with self.ingest.transaction() as conn:
            return {(p, k): self.ingest.image_root_id(conn, str(p), k) for p, k in roots}

    def linking_rows(self) -> Iterator[pa.Table]:
        """``sample_id, url, text, key, md5, image_ref`` of every sample, in batches.

        ``key`` and ``md5`` are NULL where the audit has no such column; ``md5``
        falls back to the canonical ``hash``.
        """
        with self.db.connect() as conn:
            have = {
                r[0] for r in conn.execute("SELECT column_name FROM (DESCRIBE samples)").fetchall()
            }
            key = '"key"' if "key" in have else "NULL"
            md5 = "coalesce(md5, hash)" if "md5" in have else "hash"
            reader = conn.sql(
                f"SELECT sample_id, url, text, CAST({key} AS VARCHAR) AS key,"
                f" CAST({md5} AS VARCHAR) AS md5, image_ref FROM samples"
            ).to_arrow_reader(LINK_BATCH_ROWS)
            for batch in reader:
                yield pa.Table.from_batches([batch])

    def set_refs(self, sample_ids: list[str], refs: list[str | None]) -> int:
        """Set ``image_ref`` of the given samples (``None`` unlinks); returns rows changed."""
        if not sample_ids:
            return 0
        table = pa.table(
            {
                "sample_id": pa.array(sample_ids, pa.string()),
                "image_ref": pa.array(refs, pa.string()),
            }
        )
        with self.ingest.transaction() as conn:
            conn.register("_new_refs", table)
            try:
                conn.execute(
                    "UPDATE samples SET image_ref = n.image_ref FROM _new_refs n"
                    " WHERE samples.sample_id = n.sample_id"
                )
            finally:
                conn.unregister("_new_refs")
        return len(sample_ids)

    def linked(self) -> pa.Table:
        """``sample_id, url, text, image_ref`` of every sample with an image link."""
        return self.db.query(
            "SELECT sample_id, url, text, image_ref FROM samples WHERE image_ref IS NOT NULL"
            " ORDER BY dataset, source_file, source_row"
        )

    def any_local(self) -> bool:
        """Whether any sample is linked to a local image (decides the default fetch mode)."""
        return bool(
            self.db.scalar("SELECT EXISTS (SELECT 1 FROM samples WHERE image_ref IS NOT NULL)")
        )
