"""The ``ingest`` and ``demo`` commands, the demo's content, and the notebook API."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import reviewer
from reviewer.audit import Audit
from reviewer.cli.demo_cmd import ASSETS, DEMO_DATASET, build_demo_audit
from reviewer.errors import ReviewerError
from reviewer.images.resolve import load_image
from tests.conftest import Cli
from tests.ingest.conftest import laion400m_table, write_parquet

KEYWORDS_2021 = ["porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "]


def test_cli_ingest_reports_rows_and_warnings(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    table = laion400m_table(3).set_column(2, "TEXT", pa.array(["a", "", "c"]))
    path = write_parquet(tmp_path / "p.parquet", table)
    result = cli("ingest", audit.root, path)
    assert result.code == 0, result
    assert "3 of 3 rows as laion400m" in result.out
    # Named like the samples column (0-based), so it can be queried: source_row 1.
    assert "warning NULL or empty caption (row kept): 1 (first: source_row 1)" in result.err
    again = cli("ingest", audit.root, path)
    assert "skipped" in again.out and "already ingested" in again.out


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file or folder"), (b"not parquet", "not a parquet file")],
)
def test_cli_ingest_bad_input_is_one_line_and_non_zero(
    audit: Audit, tmp_path: Path, content: bytes | None, message: str, cli: Cli
) -> None:
    path = tmp_path / "x.parquet"
    if content is not None:
        path.write_bytes(content)
    result = cli("ingest", audit.root, path)
    assert result.code != 0
    assert message in result.err
    assert "Traceback" not in result.err
    assert len([line for line in result.err.splitlines() if line.startswith("error:")]) == 1


def test_cli_ingest_refuses_an_empty_dataset_name(audit: Audit, tmp_path: Path, cli: Cli) -> None:
    path = write_parquet(tmp_path / "p.parquet", laion400m_table(2))
    result = cli("ingest", audit.root, path, "--dataset", " ")
    assert result.code != 0 and "--dataset: the name is empty" in result.err
    assert audit.store.samples.summary().samples == 0


def test_keyword_list_holds_the_2021_terms_with_their_spaces() -> None:
    lines = (ASSETS / "keywords" / "laion400m_2021.txt").read_text(encoding="utf-8").splitlines()
    terms = [line.strip()[1:-1] for line in lines if line.strip().startswith('"')]
    assert terms == KEYWORDS_2021


def test_demo_is_synthetic_safe_and_tells_the_precision_story(tmp_path: Path) -> None:
    audit = build_demo_audit(tmp_path / "demo")
    rows = audit.store.query("SELECT * FROM samples ORDER BY sample_id").to_pylist()
    assert 40 <= len(rows) <= 60
    assert {r["dataset"] for r in rows} == {DEMO_DATASET}
    assert all(r["demo_note"].startswith("SYNTHETIC DEMO") for r in rows)
    hits = [r for r in rows if any(k in (r["text"] + r["url"]).lower() for k in KEYWORDS_2021)]
    assert len(hits) >= 15  # innocent keyword hits: Essex, hot chocolate, adult education...
    benign_tagged = [r for r in rows if r["nsfw"] in ("UNSURE", "NSFW")]
    assert len(benign_tagged) >= 8
    assert {r["nsfw"] for r in rows} >= {"", "nsfw?"}  # corrupt tag values, kept as given
    assert sum(r["image_ref"] is not None for r in rows) >= 40
    astronaut = next(r for r in rows if "Eileen Collins" in r["text"])
    assert load_image(audit, astronaut).size == (512, 512)
    again = build_demo_audit(tmp_path / "demo")  # idempotent
    assert again.store.samples.count() == len(rows)


def test_demo_refuses_an_audit_holding_other_data(audit: Audit, tmp_path: Path) -> None:
    write_parquet(tmp_path / "p.parquet", laion400m_table(2))
    reviewer.open_audit(audit.root).ingest(tmp_path / "p.parquet")
    with pytest.raises(ReviewerError, match="an audit with other data"):
        build_demo_audit(audit.root)
    assert audit.store.samples.count() == 2


def test_demo_command_prints_the_summary(tmp_path: Path, cli: Cli) -> None:
    result = cli("demo", tmp_path / "d")
    assert result.code == 0, result
    assert "SYNTHETIC" in result.out
    assert "demo-synthetic" in result.out


def test_demo_matches_its_list_and_groups_its_copies(tmp_path: Path, cli: Cli) -> None:
    """The demo's listed stand-ins never reach a queue; its re-posts form groups whose
    representative carries the count."""
    from reviewer.audit import Audit as AuditType
    from reviewer.review import item_text
    from reviewer.review.groups import by_sample, load_groups
    from reviewer.review.queue import load_queue
    from reviewer.review.session import ReviewSession
    from reviewer.store.review import ReviewItem

    first = cli("demo", tmp_path / "d")
    assert first.code == 0, first
    assert "demo-list: 2 samples quarantined before anyone saw them" in first.out
    assert "stand-in" not in first.out  # counts only, never a listed caption
    again = cli("demo", tmp_path / "d")  # idempotent: one list run, same groups
    assert again.code == 0, again
    audit = AuditType.open(tmp_path / "d")
    try:
        reasons = {r["sample_id"]: r["reason"]
                   for r in audit.labels.quarantine_table().to_pylist()}
        assert reasons == {"demo-052": "list:demo-list", "demo-053": "list:demo-list"}
        assert len(audit.labels.list_runs()) == 1
        exact = {frozenset(m) for _, m in by_sample(audit.store.groups.members("sha256")).values()}
        near = {frozenset(m) for _, m in by_sample(audit.store.groups.members("pdq")).values()}
        astronaut = frozenset({"demo-018", "demo-019", "demo-050"})  # the same bytes
        assert astronaut in exact and astronaut | {"demo-049"} in near  # + a resized copy
        assert frozenset({"demo-006", "demo-007", "demo-039", "demo-051"}) in near
        queue = load_queue(audit, "ana")
        assert not {"demo-052", "demo-053"} & set(queue.ids)
        session = ReviewSession(audit.labels, "ana", queue, audit.settings,
                                groups=load_groups(audit))
        session.start()
        shown: list[str] = []
        while (sid := session.current_id) is not None and sid not in shown:
            shown.append(sid)
            if sid in astronaut | {"demo-049"}:
                line = item_text.metadata(ReviewItem(sid, {}, []), session)["group"]
                assert line.startswith("3 near-duplicates in this group")
            session.next()
        assert len([s for s in shown if s in astronaut | {"demo-049"}]) == 1  # one of four
        assert len(shown) < len(queue.ids)
    finally:
        audit.close()


def test_notebook_api_returns_arrow_and_pandas(audit: Audit, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "p.parquet", laion400m_table(6))
    with reviewer.open_audit(audit.root) as handle:
        report = handle.ingest(path)
        assert report.inserted == 6
        table = handle.samples(columns=["sample_id", "nsfw"], where="nsfw = ?", params=["NSFW"])
        assert table.to_pylist() == [
            {"sample_id": "2", "nsfw": "NSFW"},
            {"sample_id": "5", "nsfw": "NSFW"},
        ]
        frame = handle.samples(limit=2, as_pandas=True)
        assert list(frame["sample_id"]) == ["0", "1"]
        four = handle.sample("4")
        assert four is not None and four["text"] == "caption 4"
        assert handle.sample("nope") is None
        assert handle.summary()["samples"] == 6
        assert handle.labels().num_rows == 0
        assert handle.sql("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 6}]
        with pytest.raises(ReviewerError, match="unknown sample column"):
            handle.samples(columns=["nope"])
