"""SQL behind ``reviewer review``: the default review queue, breathers, item rows and reasons.

The review app never keeps the DuckDB file open (other reviewers, ``stats`` and
flag jobs need it): each method here opens, reads and closes in one go, and the
app calls them from worker threads. The default queue is ordered by a seeded hash
of ``sample_id``, not storage order, so reviewers never see items clustered by
source file; the hash also gives every sample a stable rank, so the order of the
items still to do does not change as items are labelled, and a saved rank is a
position the reviewer can resume from.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import duckdb
import pyarrow as pa

from reviewer.config import Settings
from reviewer.flag_specs import PUNSAFE_CUTS
from reviewer.store.core import Database
from reviewer.store.probes import ProbeQueries
from reviewer.store.sample_keys import SampleKeys
from reviewer.store.scores import FlagQueries, FlagViews

_RANK_SQL = "(hash(s.sample_id || ':review:' || ?) >> 1)::BIGINT"
"""A sample's rank in the default queue: a seeded hash, stable as labels come in."""


class ArrowStrings(Sequence[str]):
    """A read-only sequence of strings backed by one Arrow array.

    A 1M-sample audit's queue holds ~670k ids; as Python strings they cost ~45 MB and
    ~0.2 s to build, so the queue keeps the Arrow array and makes a string only for
    the items the reviewer actually reaches.
    """

    def __init__(self, values: pa.Array) -> None:
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._values), 65_536):
            yield from self._values.slice(start, 65_536).to_pylist()

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._values))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            values: list[str] = self._values.slice(start, max(0, stop - start)).to_pylist()
            return values
        if index < 0:
            index += len(self._values)
        if not 0 <= index < len(self._values):
            raise IndexError(index)
        value: str = self._values[index].as_py()
        return value


@dataclass
class QueueRows:
    """A review queue as loaded from the store.

    Attributes:
        ids: Sample ids in review order.
        ranks: Ascending resume keys aligned with ``ids`` (hash ranks for the default
            queue, plan positions for a plan's queue).
        already_done: Items of this queue the reviewer had labelled before (left out).
    """

    ids: Sequence[str] = field(default_factory=list)
    ranks: Sequence[int] = field(default_factory=list)
    already_done: int = 0


@dataclass(frozen=True)
class ReviewItem:
    """One sample as the review screen shows it: its row and why it was flagged."""

    sample_id: str
    row: dict[str, Any]
    reasons: list[str]
    flags: list[str] = field(default_factory=list)
    """Names of the raised flags (``keyword``, ``hate_hateful`` …); empty before any flag run."""
    probe_category: str | None = None
    """The category of a probe the item came up in (``privacy`` for a picture probe)."""

    @property
    def suggested_category(self) -> str | None:
        """A probe's category (a picture probe's items are judged as privacy first), else
        ``hate`` when only hate-speech flags were raised, so hate flags are judged as hate."""
        if self.probe_category:
            return self.probe_category
        if self.flags and all(name.startswith("hate_") for name in self.flags):
            return "hate"
        return None


def _ids_table(ids: Sequence[str] | set[str]) -> pa.Table:
    return pa.table({"sample_id": pa.array(sorted(ids), pa.string())})


def fallback_reasons(row: dict[str, Any], settings: Settings) -> list[str]:
    """Reasons read from the dataset's own fields, used before any flag run exists."""
    reasons = []
    tag = row.get("nsfw")
    if tag in ("UNSURE", "NSFW"):
        reasons.append(f"NSFW field: {tag}")
    punsafe = row.get("punsafe")
    cuts = settings.flags[PUNSAFE_CUTS]
    if isinstance(punsafe, float) and cuts and punsafe >= cuts[0]:
        reasons.append(f"punsafe {punsafe:.2f}")
    return reasons


class ReviewQueries:
    """Reads for the review app: queues, breather items, item rows with flag reasons.

    Args:
        db: The audit database.
        views: The flags contract views, behind the queue's "flagged" test.
        flags: The reasons each item was flagged.
        probes: The probes an item came up in.
        keys: ``sample_id`` to ``rowid`` key files, so a page reads only its rows.
    """

    def __init__(
        self,
        db: Database,
        views: FlagViews,
        flags: FlagQueries,
        probes: ProbeQueries | None = None,
        keys: SampleKeys | None = None,
    ) -> None:
        self.db = db
        self.views = views
        self.flags = flags
        self.probes = probes
        self.keys = keys

    def _install_flags(self, conn: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
        """Install the flaggers' ``flags`` view; True when it holds at least one flag run."""
        self.views.install(conn, settings)
        rows = conn.execute("SELECT count(*) FROM (SELECT 1 FROM flags LIMIT 1)").fetchall()
        return bool(rows[0][0])

    def _flagged_sql(self, has_runs: bool) -> str:
        """SQL over ``samples s`` that is true for flagged samples.

        With flag runs, a sample is flagged when any flag of the latest runs is raised;
        before any run, the dataset's own NSFW tag (UNSURE/NSFW) or ``punsafe`` at or
        above the first cut point stands in, so a fresh audit has something to review.
        """
        if has_runs:
            return "s.sample_id IN (SELECT sample_id FROM flags WHERE flagged)"
        return "coalesce(s.nsfw IN ('UNSURE', 'NSFW') OR s.punsafe >= ?, false)"

    def queue(self, settings: Settings, labelled: set[str]) -> QueueRows:
        """Flagged samples not labelled by the reviewer nor quarantined, in seeded random order.

        Args:
            settings: Seed of the order and the flag thresholds.
            labelled: Samples the reviewer already has a standing decision on.

        ``already_done`` counts the reviewer's decided items, their own escalations
        included (quarantined items leave the queue, but deciding them was work done);
        items quarantined by someone else leave both the queue and the count.
        """
        seed = str(settings.review.seed)
        quarantined = self.db.labels.quarantined_ids()
        with self.db.connect() as conn:
            has_runs = self._install_flags(conn, settings)
            conn.register("_labelled", _ids_table(labelled))
            conn.register("_quarantine", _ids_table(quarantined))
            flagged = f" WHERE {self._flagged_sql(has_runs)}"
            cut = [] if has_runs else [_first_cut(settings)]
            done = conn.execute(
                "SELECT count(*) FROM samples s SEMI JOIN _labelled USING (sample_id)" + flagged,
                cut,
            ).fetchall()[0][0]
            table = conn.sql(
                f"SELECT s.sample_id, {_RANK_SQL} AS rank"
                " FROM samples s ANTI JOIN _labelled USING (sample_id)"
                + flagged
                + " AND s.sample_id NOT IN (SELECT sample_id FROM _quarantine)"
                + " ORDER BY rank, s.sample_id",
                params=[seed, *cut],
            ).to_arrow_table()
        ranks = array("q", table.column("rank").to_numpy().astype("int64").tobytes())
        return QueueRows(
            ids=ArrowStrings(table.column("sample_id").combine_chunks()),
            ranks=ranks,
            already_done=int(done),
        )

    def breather_ids(self, settings: Settings, count: int, exclude: set[str]) -> list[str]:
        """Up to ``count`` benign items: flagged by nothing and tagged UNLIKELY by the dataset.

        Breathers give the reviewer a rest from harmful material; they are drawn in the
        same seeded order so a session is reproducible.
        """
        if count <= 0:
            return []
        with self.db.connect() as conn:
            has_runs = self._install_flags(conn, settings)
            conn.register("_exclude", _ids_table(exclude | self.db.labels.quarantined_ids()))
            params: list[Any] = [f"{settings.review.seed}:breather"]
            if not has_runs:
                params.append(_first_cut(settings))
            rows = conn.execute(
                f"SELECT s.sample_id, {_RANK_SQL} AS rank FROM samples s"
                f" WHERE s.nsfw = 'UNLIKELY' AND NOT {self._flagged_sql(has_runs)}"
                " AND s.sample_id NOT IN (SELECT sample_id FROM _exclude)"
                " ORDER BY rank, s.sample_id LIMIT ?",
                [*params, count],
            ).fetchall()
        return [r[0] for r in rows]

    def items(self, sample_ids: list[str], settings: Settings) -> dict[str, ReviewItem]:
        """Rows of the given samples (unknown ids absent) with the reasons each was flagged."""
        if not sample_ids:
            return {}
        table, rowids = self._rows(set(sample_ids))
        rows = {row["sample_id"]: row for row in table.to_pylist()}
        details = self.flags.details(list(rows), settings, rowids)
        probes = self.probes.reasons(list(rows)) if self.probes is not None else {}
        items = {}
        for sid, row in rows.items():
            names, reasons = details.get(sid, ([], []))
            found = probes.get(sid, [])
            category = next((c for _, c in found if c), None)
            reasons = [*(r for r, _ in found[:3]), *(reasons or fallback_reasons(row, settings))]
            items[sid] = ReviewItem(sid, row, reasons, names, category)
        return items

    def _rows(self, wanted: set[str]) -> tuple[pa.Table, list[int] | None]:
        """The samples' rows, and the row ids of them all when every id resolved by key.

        Ids the key files resolve are read by ``rowid`` (a page reads its own rows); the
        rest, if any, by the scan of every ``sample_id``. A key counts only when the row
        it names holds the id asked for, so stale key files never show a wrong item.
        """
        keyed = self.keys.rowids(sorted(wanted)) if self.keys is not None else []
        tables = []
        with self.db.connect() as conn:
            if keyed:
                listed = ", ".join(str(r) for _, r in keyed)
                table = conn.sql(
                    f"SELECT rowid AS _r, s.* FROM samples s WHERE rowid IN ({listed})"
                ).to_arrow_table()
                asked = dict((r, sid) for sid, r in keyed)
                held = [
                    asked.get(r) == sid
                    for r, sid in zip(
                        table.column("_r").to_pylist(), table.column("sample_id").to_pylist(),
                        strict=True,
                    )
                ]
                tables.append(table.filter(pa.array(held, pa.bool_())))
            found = set(tables[0].column("sample_id").to_pylist()) if tables else set()
            if wanted - found:
                conn.register("_ids", _ids_table(wanted - found))
                tables.append(conn.sql(
                    "SELECT -1::BIGINT AS _r, s.* FROM samples s SEMI JOIN _ids USING (sample_id)"
                ).to_arrow_table())
        table = pa.concat_tables(tables)
        rowids = table.column("_r").to_pylist() if len(tables) == 1 and keyed else None
        return table.drop_columns("_r"), rowids


def _first_cut(settings: Settings) -> float:
    cuts = settings.flags[PUNSAFE_CUTS]
    return float(cuts[0]) if cuts else 2.0
