"""The DuckDB schema of an audit: canonical sample columns and bookkeeping tables."""

from __future__ import annotations

SCHEMA_VERSION = 1

# Canonical columns of ``samples`` with their DuckDB types. Ingest maps source
# columns onto these case-insensitively; unknown source columns become extra
# columns of ``samples`` (kept, not dropped).
CANONICAL_COLUMNS: dict[str, str] = {
    "sample_id": "VARCHAR",
    "url": "VARCHAR",
    "text": "VARCHAR",
    "license": "VARCHAR",
    "nsfw": "VARCHAR",
    "punsafe": "DOUBLE",
    "pwatermark": "DOUBLE",
    "similarity": "DOUBLE",
    "width": "BIGINT",
    "height": "BIGINT",
    "hash": "VARCHAR",
    "dataset": "VARCHAR",
    "source_file": "VARCHAR",
    "source_row": "BIGINT",
    "image_ref": "VARCHAR",
}

NSFW_LEVELS = ("UNLIKELY", "UNSURE", "NSFW")

DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS samples ("
    + ", ".join(f"{name} {typ}" for name, typ in CANONICAL_COLUMNS.items())
    + ")",
    # One row per ingested source file; re-ingesting the same file adds nothing.
    "CREATE TABLE IF NOT EXISTS ingested_files ("
    " path VARCHAR, size BIGINT, fingerprint VARCHAR, dataset VARCHAR, rows BIGINT,"
    " warnings BIGINT, ingested_at TIMESTAMP, mtime_ns BIGINT,"
    # Every id the file inserted is id_prefix || an integer in [id_lo, id_hi] (NULL: unknown).
    " id_prefix VARCHAR, id_lo BIGINT, id_hi BIGINT)",
    # Where images live: a folder (img2dataset) or a tar shard (webdataset).
    "CREATE TABLE IF NOT EXISTS image_roots (root_id INTEGER PRIMARY KEY, path VARCHAR,"
    " kind VARCHAR)",
    # Sampling plans and their queues (see reviewer.sampling).
    "CREATE TABLE IF NOT EXISTS plans (name VARCHAR PRIMARY KEY, created_at TIMESTAMP,"
    " seed BIGINT, spec JSON)",
    "CREATE TABLE IF NOT EXISTS plan_strata (plan VARCHAR, stratum VARCHAR,"
    " population BIGINT, drawn BIGINT, inclusion_prob DOUBLE, is_control BOOLEAN)",
    "CREATE TABLE IF NOT EXISTS plan_items (plan VARCHAR, position BIGINT, sample_id VARCHAR,"
    " stratum VARCHAR, inclusion_prob DOUBLE, reviewer_slot INTEGER)",
    # Which reviewer sees which plan item when a plan splits or overlaps its queue among
    # named reviewers; a plan without rows here is one queue everybody shares.
    "CREATE TABLE IF NOT EXISTS plan_assignments (plan VARCHAR, sample_id VARCHAR,"
    " reviewer VARCHAR)",
]
