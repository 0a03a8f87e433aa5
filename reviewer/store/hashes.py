"""SQL on image hashes: exact list matches by hash join, PDQ hashes for near matches.

The ``image_hash`` flagger writes MD5 / SHA-1 / SHA-256 / PDQ per sample to
parquet parts under ``scores/image_hash/<run>/``; these queries read the newest
complete run. Exact list entries (hashes, URLs, domains) are matched by DuckDB
hash joins — a million samples against a million entries in seconds — and the
list itself is only registered on the connection, never written to the audit.

The subject is given its collaborators (the database, the flag runs), as the
store's other subjects are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.store.core import Database
    from reviewer.store.scores import FlagViews

_HOST = "lower(regexp_extract(s.url, '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)', 1))"
"""The host of a sample's URL (userinfo and port removed), lower-cased."""

_EXACT = {
    "md5": "SELECT h.sample_id, 'md5' AS entry_type FROM hashes h JOIN e_md5 e ON h.md5 = e.v",
    "sha1": "SELECT h.sample_id, 'sha1' FROM hashes h JOIN e_sha1 e ON h.sha1 = e.v",
    "sha256": "SELECT h.sample_id, 'sha256' FROM hashes h JOIN e_sha256 e ON h.sha256 = e.v",
    "url": "SELECT s.sample_id, 'url' FROM samples s JOIN e_url e ON s.url = e.v",
    # A domain entry covers the domain and its subdomains: suffix joins on every
    # parent of the host (a.b.example.com -> b.example.com, example.com, com).
    "domain": (
        "SELECT sample_id, 'domain' FROM ("
        f" SELECT s.sample_id, unnest(list_transform(range(len(string_split({_HOST}, '.'))),"
        f" lambda i: array_to_string(string_split({_HOST}, '.')[i + 1:], '.'))) AS parent"
        " FROM samples s WHERE s.url IS NOT NULL) p JOIN e_domain e ON p.parent = e.v"
    ),
}


class HashQueries:
    """Image hashes of the newest complete ``image_hash`` run, and list matches against them.

    Args:
        db: Short-lived DuckDB connections.
        views: The newest complete flag runs (the image-hash run's parts).
    """

    def __init__(self, db: Database, views: FlagViews) -> None:
        self.db = db
        self.views = views

    def hash_source(self) -> str | None:
        """``read_parquet`` SQL over the newest complete image-hash run, or ``None``."""
        source = self.views.score_sources().get("image_hash")
        return None if source is None else source[1]

    def require_source(self) -> str:
        """Like :meth:`hash_source`, but a user error when there is no run."""
        source = self.hash_source()
        if source is None:
            raise ReviewerError(
                "no complete image-hash run in this audit",
                "run `reviewer flag DIR --flagger image-hash` first",
            )
        return source

    def exact_matches(self, entries: dict[str, pa.Array], needs_hashes: bool) -> pa.Table:
        """``sample_id, entry_type`` of samples matching an exact entry (hash, URL, domain).

        Args:
            entries: Unique entry values by type (``md5``, ``sha1``, ``sha256``,
                ``url``, ``domain``; other types are ignored here).
            needs_hashes: Hash entries are present, so an image-hash run is required.
        """
        kinds = [k for k in _EXACT if k in entries]
        empty = pa.table({"sample_id": pa.array([], pa.string()),
                          "entry_type": pa.array([], pa.string())})
        if not kinds:
            return empty
        source = self.require_source() if needs_hashes else self.hash_source()
        with self.db.connect() as conn:
            if source is not None:
                conn.execute(f"CREATE TEMP VIEW hashes AS SELECT * FROM {source}")
            selects = []
            for kind in kinds:
                if kind in ("md5", "sha1", "sha256") and source is None:
                    continue
                conn.register(f"e_{kind}", pa.table({"v": entries[kind]}))
                selects.append(_EXACT[kind])
            if not selects:
                return empty
            sql = " UNION ALL ".join(selects)
            try:
                return conn.sql(
                    f"SELECT DISTINCT sample_id, entry_type FROM ({sql}) m(sample_id, entry_type)"
                ).to_arrow_table()
            except duckdb.Error as exc:
                raise ReviewerError(
                    f"matching failed: {str(exc).splitlines()[0]}",
                    "re-run `reviewer flag DIR --flagger image-hash` if its files are damaged",
                ) from exc

    def pdq_hashes(self, min_quality: int) -> tuple[pa.Table, int]:
        """``sample_id, pdq`` of hashes with quality at least ``min_quality``; and how many
        hashes were below it (not matched perceptually, reported)."""
        source = self.require_source()
        with self.db.connect() as conn:
            table = conn.sql(
                f"SELECT sample_id, pdq FROM {source}"
                f" WHERE pdq IS NOT NULL AND pdq_quality >= {int(min_quality)} ORDER BY sample_id"
            ).to_arrow_table()
            low = conn.execute(
                f"SELECT count(*) FROM {source}"
                f" WHERE pdq IS NOT NULL AND pdq_quality < {int(min_quality)}"
            ).fetchone()
        return table, int(low[0]) if low else 0

    def hashes(self) -> pa.Table:
        """Every hashed sample: ``sample_id, md5, sha1, sha256, pdq, pdq_quality``."""
        source = self.require_source()
        with self.db.connect() as conn:
            return conn.sql(
                f"SELECT sample_id, md5, sha1, sha256, pdq, pdq_quality FROM {source}"
                " ORDER BY sample_id"
            ).to_arrow_table()
