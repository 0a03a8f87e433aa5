"""The audit folder, the store's lock handling, the label store's event semantics."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reviewer.audit import Audit
from reviewer.config import Settings
from reviewer.errors import NotAnAuditError, ReviewerError
from reviewer.store import Decision, LabelStore
from tests.conftest import sample_rows


def test_init_creates_the_audit_layout(tmp_path: Path) -> None:
    audit = Audit.init(tmp_path / "a")
    assert (tmp_path / "a" / "audit.duckdb").exists()
    assert (tmp_path / "a" / "reviewer.toml").exists()
    mode = stat.S_IMODE((tmp_path / "a" / "cache").stat().st_mode)
    assert mode == 0o700
    assert Settings.load(audit.paths.settings) == Settings()
    with pytest.raises(ReviewerError, match="already exists"):
        Audit.init(tmp_path / "a")


def test_open_refuses_a_folder_that_is_not_an_audit(tmp_path: Path) -> None:
    with pytest.raises(NotAnAuditError, match="not an audit"):
        Audit.open(tmp_path)


def test_settings_reject_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(ReviewerError, match="unknown setting 'brake_every_minutes'") as typo:
        Settings.from_dict({"wellbeing": {"brake_every_minutes": 5}})
    assert "known: break_after_confirmed" in typo.value.one_line()
    with pytest.raises(ReviewerError, match="unknown setting 'image_mode'") as moved:
        Settings.from_dict({"images": {"image_mode": "hidden"}})
    assert moved.value.one_line().endswith("'image_mode' belongs under [review]")
    with pytest.raises(ReviewerError, match="must be int"):
        Settings.from_dict({"wellbeing": {"break_after_reveals": "many"}})
    s = Settings.from_dict({"wellbeing": {"break_every_minutes": 10}, "keys": {"confirm": "j"}})
    assert s.wellbeing.break_every_minutes == 10.0
    assert s.keys == {"confirm": "j"}


def test_summary_counts_corrupt_nsfw_tags_as_na(audit: Audit, add_samples) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows(6)
    rows[0]["nsfw"] = "nsfw?"
    rows[1]["nsfw"] = None
    add_samples(rows)
    summary = audit.store.samples.summary()
    assert summary.samples == 6
    assert summary.nsfw_tags == {"N/A": 2, "NSFW": 2, "UNSURE": 1, "UNLIKELY": 1}


def test_undo_restores_the_previous_decision() -> None:
    labels = LabelStore(None)
    labels.record(Decision("s1", "ana", "nsfw", "confirm"))
    labels.record(Decision("s1", "ana", "nsfw", "reject"))
    undone = labels.undo_last("ana")
    assert undone is not None and undone.verdict == "reject"
    current = labels.current_labels().to_pylist()
    assert [(r["sample_id"], r["verdict"]) for r in current] == [("s1", "confirm")]
    labels.undo_last("ana")
    assert labels.current_labels().num_rows == 0
    assert labels.undo_last("ana") is None
    assert labels.events().num_rows == 4


def test_escalation_quarantines_at_once_and_cannot_be_undone() -> None:
    labels = LabelStore(None)
    labels.record(Decision("s9", "ana", "nsfw", "escalate"))
    assert labels.quarantined_ids() == {"s9"}
    assert labels.undo_last("ana") is None
    assert labels.quarantined_ids() == {"s9"}


def test_init_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    """``reviewer init ~/Downloads`` must not turn a folder of other files into an audit."""
    (tmp_path / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(ReviewerError, match=r"holds other files \(holiday.jpg\)") as info:
        Audit.init(tmp_path)
    assert str(tmp_path / "audit") in info.value.one_line()
    assert not (tmp_path / "audit.duckdb").exists() and not (tmp_path / "cache").exists()


def test_init_completes_a_folder_holding_only_audit_parts(tmp_path: Path) -> None:
    (tmp_path / "reviewer.toml").write_text("[review]\n", encoding="utf-8")
    (tmp_path / "labels").mkdir()
    audit = Audit.init(tmp_path)
    assert (tmp_path / "audit.duckdb").exists()
    assert (tmp_path / "reviewer.toml").read_text(encoding="utf-8") == "[review]\n"
    audit.close()


def test_database_settings_reach_duckdb(tmp_path: Path) -> None:
    root = tmp_path / "a"
    Audit.init(root)
    spill = tmp_path / "spill"
    toml = (root / "reviewer.toml").read_text(encoding="utf-8")
    toml = toml.replace('memory_limit = "512MB"', 'memory_limit = "300MB"')
    toml = toml.replace('temp_directory = ""', f'temp_directory = "{spill}"')
    (root / "reviewer.toml").write_text(toml, encoding="utf-8")
    audit = Audit.open(root)
    with audit.store.connect() as conn:
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        temp = conn.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert limit.replace(" ", "") in ("286.1MiB", "300.0MB")  # DuckDB prints it in its own unit
    assert Path(temp) == spill
    with pytest.raises(ReviewerError, match='memory_limit = "lots" is not a size'):
        Settings.from_dict({"database": {"memory_limit": "lots"}})
