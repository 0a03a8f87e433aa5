"""The one small interface every flagger implements, and the score columns flags read.

Why this shape: a flag job on LAION scale runs for hours, may be interrupted,
and must never hold the audit's DuckDB lock while it works (DuckDB lets one
writer lock everyone else out). So a flagger only *scores*: it turns a batch of
samples into a batch of raw score columns. The runner
(:func:`reviewer.flaggers.runner.run_flagger`) records the work list (row ranges
of the audit for streaming rule flaggers, else a snapshot of the inputs in
``scores/<flagger>/<run_id>/todo.parquet`` taken with one short read), calls the
flagger batch by batch and writes each result atomically as
``part-NNNNN.parquet`` next to a ``run.json`` with provenance (see
:mod:`reviewer.store.runs`). Flags are derived later from the score columns
and the thresholds in ``reviewer.toml`` (:mod:`reviewer.store.flag_rules`), so
changing a threshold never re-scores.

Writing a flagger (for the hate / clip helpers)
-----------------------------------------------
Subclass :class:`Flagger` and set:

- ``name``: the name of its spec in :data:`reviewer.flag_specs.SPECS` (folder
  under ``scores/``, registry key; the CLI also accepts dashes: ``nsfw-field``).
- ``version``: bump when scores would change for the same inputs.
- ``model_id``: the model (hub name or local path) or ``None`` for rule-based flaggers.
- ``inputs``: sample columns the work list needs; ``sample_id`` is always included.
  Available: every ``samples`` column (``text``, ``url``, ``image_ref``, ``nsfw``,
  ``punsafe``, ``similarity``, ``dataset``, ``source_file`` ...).
- ``columns``: ``SCORE_COLUMNS[name]`` from the spec (score column -> Arrow type).
- ``params()``: everything that changes the scores (threshold-free!). Two
  invocations with equal ``name``/``version``/``model_id``/``params()`` are the
  same run: an incomplete one is resumed, a complete one is redone as a new run.
- ``prepare()``: load the model lazily (heavy imports here, not at module import);
  raise :class:`~reviewer.errors.ModelUnavailableError` saying how to provide weights.
- ``score_batch(batch)``: ``pa.Table`` with ``inputs`` -> ``pa.Table`` with
  ``sample_id`` plus every column of ``columns`` (same row count; a row that cannot
  be scored gets NULL scores and, optionally, a reason in an ``error`` column).
- optionally ``duckdb_select(todo)``: for pure-SQL flaggers, a SELECT over the
  relation name ``todo`` producing ``sample_id`` + ``columns``; the default
  ``score_batch`` then runs it on each batch in an in-memory DuckDB (vectorised,
  all cores), so no Python loop is needed. Output row order may differ from input
  order: parts are keyed by ``sample_id``.
- optionally ``streams = True`` for rule flaggers as fast as a scan (no snapshot).
- optionally ``batch_size`` (rows per part, class attribute) and ``extra_provenance()``
  (facts learnt while scoring, stored under ``extra`` in ``run.json``).
- ``__init__`` takes keyword options named like the CLI's (``mode``, ``keywords``,
  ``model``, ``pretrained``, ``device``, ``quantize``, ``threshold``) plus ``audit`` /
  ``settings`` if it needs them; the registry passes only the ones it declares.
- optionally ``unavailable()``: a reason string when the flagger cannot run here
  (extra not installed, no images), else ``None``; ``reviewer flag --flagger all``
  skips it with that message.

Score columns and flags (the contract between scorers and flags)
-----------------------------------------------------------------
Each flagger is declared once in :data:`reviewer.flag_specs.SPECS`: its
class path, score columns, flags and the ``[flags]`` settings it reads (the SQL
rule deriving the flags is :data:`reviewer.store.flag_rules.RULES` under the same
name). A flagger class takes ``columns`` from its spec
(``SCORE_COLUMNS[name]``), so the scorer and the flag rules cannot drift apart.

flagger        score columns                               flags derived
=============  ==========================================  ===================================
keyword        caption_terms list<string>,                 keyword
               url_terms list<string>
nsfw_field     nsfw_tag string (UNLIKELY|UNSURE|NSFW|N/A),  nsfw_field, nsfw_field_unsure,
               punsafe double                              punsafe (>= first cut)
hate           p_hateful, p_targeted, p_aggressive double  hate_hateful, hate_targeted,
                                                           hate_aggressive, hate_any
clip           p_nsfw double, similarity double            clip_nsfw (p_nsfw >= threshold),
                                                           clip_mismatch (similarity < thr.)
image_hash     md5, sha1, sha256, pdq (hex) string,          none (read by ``reviewer match``
               pdq_quality int32                           and ``reviewer groups``)
=============  ==========================================  ===================================

Score values are probabilities in [0, 1] (similarity: cosine in [-1, 1]); NULL
means "not scored" (unreadable image, empty caption) and never flags.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa


class Flagger:
    """Base class of all flaggers: a name, a version, lazy loading, batch scoring.

    Subclasses override the class attributes and :meth:`score_batch` (or
    :meth:`duckdb_select`). Instances carry their parameters (mode, model,
    device ...) as attributes set in ``__init__``.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    inputs: ClassVar[tuple[str, ...]] = ("sample_id",)
    columns: ClassVar[dict[str, pa.DataType]] = {}
    batch_size: ClassVar[int] = 256
    """Default rows per part (``--batch-size`` overrides); SQL flaggers use large parts."""
    model_id: str | None = None
    streams: ClassVar[bool] = False
    """Rule flaggers that score about as fast as DuckDB reads set this: their local runs
    read each part's rows straight from the audit (a work list of row ranges) instead
    of first copying every input to a snapshot. Model flaggers keep the snapshot: it
    costs little next to a model, and Ray actors on other nodes read it."""

    def params(self) -> dict[str, Any]:
        """Parameters that change the scores (JSON-serialisable); part of the run identity."""
        return {}

    def unavailable(self) -> str | None:
        """Why this flagger cannot run here (missing extra ...), or ``None`` when it can."""
        return None

    def prepare(self) -> None:
        """Load models or word lists; called once before the first batch."""

    def score_batch(self, batch: pa.Table) -> pa.Table:
        """Score one batch of the work list.

        Args:
            batch: Columns ``inputs`` of some samples.

        Returns:
            ``sample_id`` and every column of :attr:`columns`, one row per input row.
        """
        sql = self.duckdb_select("todo")
        if sql is None:
            raise NotImplementedError(f"{self.name}: score_batch is not implemented")
        import duckdb

        with duckdb.connect() as conn:
            conn.register("todo", batch)
            result = conn.sql(sql).to_arrow_table()
        return result.cast(self.output_schema())

    def duckdb_select(self, todo: str) -> str | None:
        """A SELECT over relation ``todo`` that scores a batch inside DuckDB, or ``None``.

        When given, the default :meth:`score_batch` runs it in an in-memory DuckDB
        (vectorised, on all cores), so pure-SQL flaggers need no Python loop.
        """
        return None

    def extra_provenance(self) -> dict[str, Any]:
        """Facts learnt while scoring (e.g. int8 deviation from fp32), saved in ``run.json``."""
        return {}

    def output_schema(self) -> pa.Schema:
        """The schema of score parts: ``sample_id`` then :attr:`columns`."""
        return pa.schema([("sample_id", pa.string()), *self.columns.items()])

    def provenance(self) -> dict[str, Any]:
        """Identity of the scores this flagger produces, stored in ``run.json``."""
        return {
            "flagger": self.name,
            "version": self.version,
            "model_id": self.model_id,
            "params": self.params(),
        }
