"""Flags derived from scores: rules, reasons, thresholds from settings, the SQL view."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from conftest import sample_rows

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.flaggers.runner import run_flagger
from reviewer.store.runs import list_runs

Build = Callable[[list[dict[str, Any]]], Audit]


def flag_map(audit: Audit, settings: Settings, flag: str) -> dict[str, tuple[bool, str | None]]:
    table = audit.store.flags.table(settings, flag_names=[flag])
    return {r["sample_id"]: (r["flagged"], r["reason"]) for r in table.to_pylist()}


def with_flags(settings: Settings, **values: Any) -> Settings:
    changed = copy.deepcopy(settings)
    for key, value in values.items():
        setattr(changed.flags, key, value)
    return changed


def test_nsfw_field_tags_are_ordinal_and_unknown_tags_are_na(audit_with: Build) -> None:
    rows = sample_rows(6)
    for row, tag in zip(rows, ["UNLIKELY", "unsure ", "NSFW", None, "None", "nsfw"], strict=True):
        row["nsfw"] = tag
    audit = audit_with(rows)
    run_flagger(audit, "nsfw-field")
    nsfw = flag_map(audit, audit.settings, "nsfw_field")
    unsure = flag_map(audit, audit.settings, "nsfw_field_unsure")
    assert [sid for sid, (hit, _) in sorted(nsfw.items()) if hit] == ["s00002", "s00005"]
    assert [sid for sid, (hit, _) in sorted(unsure.items()) if hit] == ["s00001"]
    assert nsfw["s00002"][1] == "NSFW field: NSFW"
    assert unsure["s00001"][1] == "NSFW field: UNSURE"
    scores = {
        r["sample_id"]: r["score"]
        for r in audit.store.flags.table(audit.settings, flag_names=["nsfw_field"]).to_pylist()
    }
    assert [scores[f"s{i:05d}"] for i in range(6)] == [0, 1, 2, None, None, 2]


def test_punsafe_bands_follow_the_cut_points_without_rescoring(audit_with: Build) -> None:
    rows = sample_rows(5)
    for row, p in zip(rows, [0.1, 0.5, 0.74, 0.9, None], strict=True):
        row["punsafe"] = p
    audit = audit_with(rows)
    run_flagger(audit, "nsfw-field")
    default = flag_map(audit, audit.settings, "punsafe")  # cuts [0.5, 0.9]
    assert default["s00000"] == (False, None)
    assert default["s00001"] == (True, "punsafe 0.50 (UNSURE band)")  # at the cut counts
    assert default["s00002"] == (True, "punsafe 0.74 (UNSURE band)")
    assert default["s00003"] == (True, "punsafe 0.90 (NSFW band)")
    assert default["s00004"] == (False, None)
    stricter = flag_map(audit, with_flags(audit.settings, punsafe_cuts=[0.8]), "punsafe")
    assert [sid for sid, (hit, _) in sorted(stricter.items()) if hit] == ["s00003"]
    assert stricter["s00003"][1] == "punsafe 0.90 (NSFW band)"
    assert len(list_runs(audit.paths.scores)) == 1  # thresholds never re-score


def test_bad_cut_points_are_a_clear_error(audit_with: Build) -> None:
    audit = audit_with(sample_rows(1, punsafe=0.3))
    run_flagger(audit, "nsfw-field")
    with pytest.raises(ReviewerError, match="punsafe_cuts"):
        audit.store.flags.table(with_flags(audit.settings, punsafe_cuts=[0.9, 0.5]))


def test_hate_flags_per_type_and_any(audit_with: Build, scripted_hate: Any) -> None:
    audit = audit_with(sample_rows(3))
    scores = {
        "s00000": {"p_hateful": 0.82, "p_targeted": 0.51, "p_aggressive": 0.5},
        "s00001": {"p_hateful": 0.2, "p_targeted": 0.3, "p_aggressive": 0.49},
        "s00002": {"p_hateful": None, "p_targeted": None, "p_aggressive": None},
    }
    run_flagger(audit, scripted_hate(scores))
    reasons = audit.store.flags.reasons(["s00000", "s00001", "s00002"], audit.settings)
    # p_aggressive exactly 0.5 is not above the threshold (pysentimiento's p > 0.5).
    assert reasons == {
        "s00000": ["P_hateful 0.82, P_targeted 0.51", "P_hateful 0.82", "P_targeted 0.51"]
    }
    lower = with_flags(audit.settings, hate_threshold=0.4)
    assert audit.store.flags.flagged_ids(lower, ["hate_aggressive"]) == {"s00000", "s00001"}
    anyflag = audit.store.flags.table(audit.settings, flag_names=["hate_any"]).to_pylist()
    assert {r["sample_id"]: r["score"] for r in anyflag} == {
        "s00000": 0.82,
        "s00001": 0.49,
        "s00002": None,
    }


def test_clip_flags(audit_with: Build, scripted_clip: Any) -> None:
    audit = audit_with(sample_rows(3))
    scores = {
        "s00000": {"p_nsfw": 0.91, "similarity": 0.35},
        "s00001": {"p_nsfw": 0.2, "similarity": 0.12},
    }  # s00002: unreadable image, NULL scores
    run_flagger(audit, scripted_clip(scores))
    reasons = audit.store.flags.reasons(["s00000", "s00001", "s00002"], audit.settings)
    assert reasons == {"s00000": ["CLIP NSFW 0.91"], "s00001": ["CLIP similarity 0.12 < 0.28"]}
    looser = with_flags(audit.settings, clip_similarity_threshold=0.4, clip_nsfw_threshold=0.95)
    assert audit.store.flags.flagged_ids(looser) == {"s00000", "s00001"}
    assert audit.store.flags.flagged_ids(looser, ["clip_nsfw"]) == set()


def test_keyword_reasons_name_term_and_field(audit_with: Build) -> None:
    rows = sample_rows(2)
    rows[0].update(text="hot sauce", url="https://example.org/xxx.jpg")
    audit = audit_with(rows)
    run_flagger(audit, "keyword")
    assert audit.store.flags.reasons(["s00000", "s00001"], audit.settings) == {
        "s00000": ['keyword: "hot " in caption, "xxx" in URL']
    }


def test_latest_complete_run_of_a_flagger_wins(audit_with: Build) -> None:
    rows = sample_rows(1)
    rows[0]["text"] = "Essex"
    audit = audit_with(rows)
    run_flagger(audit, "keyword")
    assert audit.store.flags.flagged_ids(audit.settings) == {"s00000"}
    info = run_flagger(audit, "keyword", mode="word")
    assert audit.store.flags.flagged_ids(audit.settings) == set()
    assert audit.store.flags.table(audit.settings).column("run_id").to_pylist() == [info.run_id]


def test_flag_view_joins_in_sql_on_a_read_only_connection(audit_with: Build) -> None:
    rows = sample_rows(4)
    rows[1]["text"] = "adult content"
    audit = audit_with(rows)
    run_flagger(audit, "keyword")
    run_flagger(audit, "nsfw-field")
    with audit.store.connect() as conn:
        present = audit.store.flag_views.install(conn, audit.settings)
        joined = conn.execute(
            "SELECT s.sample_id, f.flag FROM samples s JOIN flags f USING (sample_id)"
            " WHERE f.flagged ORDER BY 1, 2"
        ).fetchall()
        raw = conn.execute("SELECT count(*) FROM scores_keyword").fetchone()
    assert present == ["keyword", "nsfw_field"]
    # sample_rows tags cycle UNLIKELY, UNSURE, NSFW, UNLIKELY
    assert joined == [
        ("s00001", "keyword"),
        ("s00001", "nsfw_field_unsure"),
        ("s00002", "nsfw_field"),
    ]
    assert raw == (4,)


def test_no_runs_gives_empty_flags_with_the_contract_columns(audit: Audit) -> None:
    table = audit.store.flags.table(audit.settings)
    assert table.column_names == [
        "sample_id",
        "flagger",
        "flag",
        "score",
        "flagged",
        "reason",
        "run_id",
    ]
    assert table.num_rows == 0
    assert audit.store.flags.reasons(["x"], audit.settings) == {}
    with pytest.raises(ReviewerError, match="no complete 'hate' run"):
        audit.store.flags.scores_with_samples("hate")


def test_error_column_is_kept_and_does_not_disturb_flags(
    audit_with: Build, scripted_hate: Any
) -> None:
    class WithErrors(scripted_hate):
        def score_batch(self, batch: pa.Table) -> pa.Table:
            table = super().score_batch(batch)
            errors = [
                "empty caption" if p is None else None
                for p in table.column("p_hateful").to_pylist()
            ]
            return table.append_column("error", pa.array(errors, pa.string()))

    audit = audit_with(sample_rows(2))
    run_flagger(audit, WithErrors({"s00000": {"p_hateful": 0.6}}))
    assert audit.store.flags.flagged_ids(audit.settings) == {"s00000"}
    with audit.store.connect() as conn:
        audit.store.flag_views.install(conn, audit.settings)
        errors = conn.execute("SELECT sample_id, error FROM scores_hate ORDER BY 1").fetchall()
    assert errors == [("s00000", None), ("s00001", "empty caption")]
