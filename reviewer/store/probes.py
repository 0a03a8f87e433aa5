"""SQL of probes: queues ranked by similarity to a text, a sample or a local picture (issue 15).

A probe is a review queue like a sampling plan's, but it is not a random draw:
its items are the K nearest samples to a query, in similarity order, so it must
never weight precision estimates the way a plan's strata do. It therefore lives
in its own tables (``probes``, ``probe_items``), read by the review app's queue
loader and by the probe statistics, and is invisible to ``reviewer stats``'
plan weighting.

:class:`ProbeQueries` is a subject object: it gets the database (connections,
labels) and the flag views it works through, explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Settings
    from reviewer.store.core import Database
    from reviewer.store.scores import FlagViews

_DDL = (
    "CREATE TABLE IF NOT EXISTS probes (name VARCHAR PRIMARY KEY, created_at TIMESTAMP,"
    " kind VARCHAR, query VARCHAR, model VARCHAR, top_k BIGINT, category VARCHAR, spec JSON)",
    "CREATE TABLE IF NOT EXISTS probe_items (probe VARCHAR, position BIGINT, sample_id VARCHAR,"
    " similarity DOUBLE)",
)


@dataclass(frozen=True)
class ProbeInfo:
    """A stored probe.

    Attributes:
        kind: ``text``, ``sample`` or ``image``.
        query: The text, the sample id, or ``local image sha256:…`` (never the picture).
        category: The category its items are suggested under (``privacy`` for image probes).
    """

    name: str
    created_at: datetime | None
    kind: str
    query: str
    model: str
    top_k: int
    category: str | None
    items: int
    spec: dict[str, Any]

    def reason(self, similarity: float) -> str:
        """What the review screen shows for an item of this probe."""
        label = self.query if self.kind == "text" else f"{self.kind} {self.query}"
        if self.kind == "image":
            label = "local image"
        return f"probe '{label[:60]}': similarity {similarity:.2f}"


class ProbeQueries:
    """Probes and their items in the audit's DuckDB file.

    Args:
        db: The audit's database (connections and the label store).
        views: The flags view, for the probe statistics.
    """

    def __init__(self, db: Database, views: FlagViews) -> None:
        self.db = db
        self.views = views

    # ---- embeddings alignment --------------------------------------------------------

    def rows_of_file(self, source_file: str) -> pa.Table:
        """``source_row, sample_id`` of the samples ingested from one source file."""
        with self.db.connect() as conn:
            return conn.sql(
                "SELECT source_row, sample_id FROM samples WHERE source_file = ?"
                " ORDER BY source_row",
                params=[source_file],
            ).to_arrow_table()

    def known_ids(self, sample_ids: list[str]) -> set[str]:
        """Which of the given ids are samples of the audit."""
        with self.db.connect() as conn:
            conn.register("_ids", pa.table({"sample_id": pa.array(sample_ids, pa.string())}))
            rows = conn.execute(
                "SELECT sample_id FROM samples SEMI JOIN _ids USING (sample_id)"
            ).fetchall()
        return {r[0] for r in rows}

    # ---- probes ----------------------------------------------------------------------

    def probes(self) -> list[ProbeInfo]:
        """Every stored probe, newest first."""
        with self.db.connect() as conn:
            if not _has_table(conn, "probes"):
                return []
            rows = conn.execute(
                "SELECT p.name, p.created_at, p.kind, p.query, p.model, p.top_k, p.category,"
                " (SELECT count(*) FROM probe_items i WHERE i.probe = p.name), p.spec"
                " FROM probes p ORDER BY p.created_at DESC, p.name"
            ).fetchall()
        return [
            ProbeInfo(n, c, k, q, m, int(t), cat, int(i), json.loads(s) if s else {})
            for n, c, k, q, m, t, cat, i, s in rows
        ]

    def probe(self, name: str) -> ProbeInfo | None:
        """One probe by name, or ``None``."""
        return next((p for p in self.probes() if p.name == name), None)

    def save(
        self,
        info: ProbeInfo,
        sample_ids: list[str],
        similarities: list[float],
        replace: bool = False,
    ) -> None:
        """Store a probe and its items (in similarity order) in one transaction."""
        items = pa.table(
            {
                "position": pa.array(range(len(sample_ids)), pa.int64()),
                "sample_id": pa.array(sample_ids, pa.string()),
                "similarity": pa.array(similarities, pa.float64()),
            }
        )
        with self.db.connect(write=True) as conn:
            for statement in _DDL:
                conn.execute(statement)
            exists = conn.execute("SELECT count(*) FROM probes WHERE name = ?", [info.name])
            if exists.fetchall()[0][0]:
                if not replace:
                    raise ReviewerError(
                        f"probe '{info.name}' already exists",
                        "choose another --name, or pass --replace to run it again",
                    )
                conn.execute("DELETE FROM probes WHERE name = ?", [info.name])
                conn.execute("DELETE FROM probe_items WHERE probe = ?", [info.name])
            if _plan_exists(conn, info.name):
                raise ReviewerError(
                    f"'{info.name}' is already a sampling plan's queue", "choose another --name"
                )
            conn.execute(
                "INSERT INTO probes VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
                [
                    info.name,
                    info.kind,
                    info.query,
                    info.model,
                    info.top_k,
                    info.category,
                    json.dumps(info.spec),
                ],
            )
            conn.register("_items", items)
            conn.execute(
                "INSERT INTO probe_items SELECT ?, position, sample_id, similarity FROM _items",
                [info.name],
            )

    def queue_ids(self, name: str, keep: set[str] | None = None) -> list[str]:
        """The probe's queue in similarity order, without quarantined items (except ``keep``)."""
        dropped = self.db.labels.quarantined_ids() - (keep or set())
        with self.db.connect() as conn:
            conn.register(
                "_quarantine", pa.table({"sample_id": pa.array(sorted(dropped), pa.string())})
            )
            rows = conn.execute(
                "SELECT sample_id FROM probe_items WHERE probe = ?"
                " AND sample_id NOT IN (SELECT sample_id FROM _quarantine) ORDER BY position",
                [name],
            ).fetchall()
        return [r[0] for r in rows]

    def reasons(self, sample_ids: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        """Per sample, ``(reason, category)`` of every probe it came up in."""
        infos = {p.name: p for p in self.probes()}
        if not infos or not sample_ids:
            return {}
        with self.db.connect() as conn:
            conn.register("_ids", pa.table({"sample_id": pa.array(sample_ids, pa.string())}))
            rows = conn.execute(
                "SELECT sample_id, probe, similarity FROM probe_items"
                " SEMI JOIN _ids USING (sample_id) ORDER BY sample_id, similarity DESC"
            ).fetchall()
        out: dict[str, list[tuple[str, str | None]]] = {}
        for sid, probe, similarity in rows:
            info = infos.get(probe)
            if info is not None:
                out.setdefault(sid, []).append((info.reason(similarity), info.category))
        return out

    def item_table(self, settings: Settings) -> pa.Table:
        """One row per probe item for the statistics.

        Columns: ``probe, position, sample_id, similarity, nsfw`` (the dataset's tag),
        ``keyword`` / ``hate`` (a keyword / hate flag raised), ``harmful`` (the item's
        current labels: true when any reviewer confirmed harm, false when judged and none
        did, NULL when not judged or only skipped/unsure).
        """
        with self.db.connect() as conn:
            if not _has_table(conn, "probes"):
                return pa.table({})
            conn.register("labels_current", self.db.labels.current_labels())
            self.views.install(conn, settings)
            return conn.sql(
                "SELECT i.probe, i.position, i.sample_id, i.similarity, s.nsfw,"
                " coalesce(f.keyword, false) AS keyword, coalesce(f.hate, false) AS hate,"
                " l.harmful FROM probe_items i LEFT JOIN samples s USING (sample_id)"
                " LEFT JOIN (SELECT sample_id, bool_or(flagged AND flag = 'keyword') AS keyword,"
                " bool_or(flagged AND flag LIKE 'hate_%') AS hate FROM flags GROUP BY 1) f"
                " USING (sample_id)"
                " LEFT JOIN (SELECT sample_id, CASE WHEN bool_or(verdict = 'confirm') THEN true"
                " WHEN bool_or(verdict = 'reject') THEN false END AS harmful"
                " FROM labels_current GROUP BY 1) l USING (sample_id)"
                " ORDER BY i.probe, i.position"
            ).to_arrow_table()


def _has_table(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()[0]
    return bool(row and row[0])


def _plan_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(conn.execute("SELECT count(*) FROM plans WHERE name = ?", [name]).fetchall()[0][0])
