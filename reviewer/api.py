"""The notebook API: an audit's samples, scores and labels as Arrow or pandas, no TUI.

Researchers estimating filter precision work in notebooks; this module gives
them the same numbers the CLI prints, as tables::

    import reviewer
    audit = reviewer.open_audit("my-audit")
    audit.samples(where="nsfw = ?", params=["NSFW"], as_pandas=True)
    audit.flags(only_flagged=True)
    audit.labels(as_pandas=True)

Every method returns a :class:`pyarrow.Table`, or a pandas ``DataFrame`` with
``as_pandas=True`` (pandas is imported only then). Reads open short-lived
read-only connections, so a notebook never blocks reviewers or a flag job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.flag_specs import HATE_THRESHOLD

if TYPE_CHECKING:
    from reviewer.ingest import IngestReport
    from reviewer.store import Store


def _frame(table: pa.Table, as_pandas: bool) -> Any:
    """The table itself, or a pandas DataFrame of it."""
    if not as_pandas:
        return table
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        raise ReviewerError("pandas is not installed", "pip install pandas, or use Arrow") from exc
    return table.to_pandas()


class AuditHandle:
    """A read-mostly view of an audit for notebooks.

    Args:
        audit: The opened audit.
    """

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    def __enter__(self) -> AuditHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def store(self) -> Store:
        """The underlying :class:`reviewer.store.Store`."""
        return self.audit.store

    def summary(self) -> dict[str, Any]:
        """Counts by dataset, NSFW tag, files, images and labels, as a dict."""
        return asdict(self.audit.store.samples.summary())

    def samples(
        self,
        columns: list[str] | None = None,
        where: str | None = None,
        params: list[Any] | None = None,
        limit: int | None = None,
        as_pandas: bool = False,
    ) -> Any:
        """Samples in ingest order; ``where`` is an SQL condition with ``?`` placeholders."""
        table = self.audit.store.samples.table(columns, where, params, limit)
        return _frame(table, as_pandas)

    def sample(self, sample_id: str) -> dict[str, Any] | None:
        """One sample as a dict, or ``None`` if the id is unknown."""
        return self.audit.store.samples.get([sample_id]).get(sample_id)

    def flags(
        self,
        only_flagged: bool = False,
        flag_names: Iterable[str] | None = None,
        as_pandas: bool = False,
    ) -> Any:
        """Flags (``sample_id, flagger, flag, score, flagged, reason, run_id``) from the newest
        complete flag runs, with the thresholds in ``reviewer.toml``."""
        table = self.audit.store.flags.table(self.audit.settings, only_flagged, flag_names)
        return _frame(table, as_pandas)

    def scores(
        self,
        flagger: str,
        sample_columns: Iterable[str] = ("dataset", "source_file"),
        as_pandas: bool = False,
    ) -> Any:
        """Raw scores of a flagger's newest complete run, joined with some sample columns.

        ``flagger`` is spelled as on the command line (``nsfw-field``) or as stored
        (``nsfw_field``).
        """
        from reviewer.flaggers.registry import canonical_name

        name = canonical_name(flagger)
        scores = self.audit.store.flags.scores_with_samples(name, sample_columns)
        return _frame(scores, as_pandas)

    def flag_runs(self) -> list[dict[str, Any]]:
        """Provenance of every flag run (flagger, version, model, parameters, time)."""
        return [asdict(run) for run in self.audit.store.flags.runs()]

    def labels(self, as_pandas: bool = False) -> Any:
        """Current labels: one row per (sample, reviewer, category)."""
        return _frame(self.audit.labels.current_labels(), as_pandas)

    def label_events(self, as_pandas: bool = False) -> Any:
        """Every decision event, undos included."""
        return _frame(self.audit.labels.events(), as_pandas)

    def sql(self, query: str, params: list[Any] | None = None, as_pandas: bool = False) -> Any:
        """Run read-only SQL over ``samples`` and the label relations
        (``labels_current``, ``label_events``, ``quarantine``)."""
        return _frame(self.audit.store.query(query, params or [], with_labels=True), as_pandas)

    def ingest(
        self, *sources: str | Path, dataset: str | None = None, images: str | Path | None = None
    ) -> IngestReport:
        """Ingest files into the audit, as ``reviewer ingest`` does (no progress bar)."""
        from reviewer.ingest import ingest

        return ingest(
            self.audit.store,
            [str(s) for s in sources],
            dataset=dataset,
            images=Path(images) if images is not None else None,
        )

    # ---- the numbers `reviewer stats` prints, from the same AuditStats object ---------

    def statistics(
        self, plan: str | None = None, category: str = "nsfw", confidence: float = 0.95
    ) -> Any:
        """Everything ``reviewer stats`` computes, as one :class:`AuditStats` (its
        ``as_dict()`` is the ``--json`` document). Pass it to the table methods below to
        read several tables from one computation."""
        from reviewer.stats import audit_stats

        return audit_stats.compute_stats(self.audit, plan, category, confidence)

    def precision(self, plan: str | None = None, stats: Any = None) -> Any:
        """Precision per flag: design-based with interval, labelled share (Wilson /
        Clopper–Pearson), recall."""
        from reviewer.stats import audit_stats

        return audit_stats.precision_table(stats or self.statistics(plan))

    def targets(self, plan: str | None = None, stats: Any = None) -> Any:
        """Design-based targets (prevalence, precision:FLAG) with labels used and the
        simple-random-sample labels that would give the same interval."""
        from reviewer.stats import audit_stats

        return audit_stats.targets_table(stats or self.statistics(plan))

    def field_table(self, category: str = "nsfw", weighted: bool = False,
                    stats: Any = None) -> Any:
        """Human verdict (rows) by LAION NSFW tag (columns); ``weighted=True`` gives the
        plan population's estimated counts."""
        from reviewer.stats import audit_stats

        return audit_stats.field_table(stats or self.statistics(category=category), weighted)

    def agreement(self, category: str = "nsfw", stats: Any = None) -> Any:
        """Agreement among reviewers and with the NSFW tag: value, interval, method, note."""
        from reviewer.stats import audit_stats

        return audit_stats.agreement_table(stats or self.statistics(category=category))

    def reviewer_summary(self, stats: Any = None) -> Any:
        """Per reviewer: items, verdicts, seconds per item, exposure."""
        from reviewer.stats import audit_stats

        return audit_stats.reviewer_table(stats or self.statistics())

    # ---- probes (what `reviewer probe` queues and `reviewer stats` compares) ---------

    def probe(
        self,
        text: str | None = None,
        *,
        like: str | None = None,
        like_image: str | Path | None = None,
        probes: str | Path | None = None,
        top: int = 100,
        name: str | None = None,
        category: str | None = None,
        replace: bool = False,
        model: str | None = None,
        pretrained: str | None = None,
        model_config: str | None = None,
        device: str = "auto",
    ) -> Any:
        """Run a probe like ``reviewer probe`` (store its queue) and return its items:
        ``probe, position, sample_id, similarity`` in similarity order."""
        from reviewer.embeddings.probe import build_requests, open_prober

        requests = build_requests(text, like, like_image, probes, top, name, category)
        prober = open_prober(self.audit, any(r.kind != "sample" for r in requests), None,
                             model, pretrained, model_config, device)
        rows = []
        for request in requests:
            result = prober.run(request, replace=replace)
            rows += [{"probe": request.name, "position": i, "sample_id": sid, "similarity": s}
                     for i, (sid, s) in enumerate(zip(result.sample_ids, result.similarities,
                                                      strict=True))]
        return _records(rows)

    def probe_stats(self, stats: Any = None) -> Any:
        """Per probe: judged-harmful share of its top K with interval, shares tagged NSFW /
        UNSURE, keyword and hate flags (the table ``reviewer stats`` prints). Without
        ``stats`` it is computed from the probes alone, so it works before any label."""
        from reviewer.stats.probes import probe_rows

        if stats is not None:
            return _records(stats.probes)
        store = self.audit.store
        items = store.probes.item_table(self.audit.settings).to_pandas()
        return _records(probe_rows(items, store.probes.probes()))

    # ---- hate content rate (what `reviewer hcr` prints), as pandas DataFrames ---------

    def hcr(self, threshold: float | None = None, by: str | None = None) -> Any:
        """HCR per type and any-of-three, with Wilson and Clopper-Pearson intervals.

        Args:
            threshold: A caption counts when a probability is above it; default
                ``hate_threshold`` from ``reviewer.toml`` (0.5).
            by: ``None`` (all captions), ``"dataset"`` or ``"source_file"``.
        """
        from reviewer.stats import hcr

        scores, threshold = self._hate_scores(threshold)
        groups = hcr.split_groups(scores, by)
        rows = [r for name, part in groups.items() for r in hcr.hcr_rows(part, threshold, name)]
        return _records([r.as_dict() for r in rows])

    def hcr_curve(self, by: str | None = None) -> Any:
        """HCR at thresholds 0.1 ... 0.9 per type (the curve `reviewer hcr --csv` writes)."""
        from reviewer.stats import hcr

        scores, _ = self._hate_scores(None)
        groups = hcr.split_groups(scores, by)
        return _records([r.as_dict() for n, p in groups.items() for r in hcr.hcr_curve(p, n)])

    def compare_hcr(self, dataset_a: str, dataset_b: str, threshold: float | None = None) -> Any:
        """Two datasets as in the hate-scaling audit: per-file HCR means, Student and Welch
        t-tests, Cohen's d, and the conservative interval comparison, per type."""
        from reviewer.stats import hcr

        scores, threshold = self._hate_scores(threshold)
        comparison = hcr.compare_datasets(scores, dataset_a, dataset_b, threshold)
        return _records([c.as_dict() for c in comparison])

    def _hate_scores(self, threshold: float | None) -> tuple[Any, float]:
        from reviewer.stats import hcr

        default = self.audit.settings.flags[HATE_THRESHOLD]
        checked = hcr.check_threshold(default if threshold is None else threshold)
        scores = self.audit.store.flags.scores_with_samples("hate", ("dataset", "source_file"))
        return scores, checked

    def close(self) -> None:
        """Release the audit's label store."""
        self.audit.close()


def open_audit(path: str | Path, read_only: bool | None = None) -> AuditHandle:
    """Open an audit folder for use from Python.

    ``read_only=True`` reads a shared or archived audit without changing anything;
    the default is read-only exactly when the folder is not writable.
    """
    return AuditHandle(Audit.open(Path(path), read_only=read_only))


def _records(rows: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of dict rows (pandas is imported only when asked for)."""
    import pandas as pd

    return pd.DataFrame.from_records(rows)
