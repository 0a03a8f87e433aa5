"""The report: self-contained HTML (checked in headless Chromium when present) and Markdown."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from reviewer.audit import Audit
from reviewer.sampling import SampleSpec, draw_plan
from tests.conftest import Cli

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def reported(audit: Audit, add_samples, make_rows, set_flags, label) -> Audit:  # type: ignore[no-untyped-def]
    """Flags, a plan with control and overlap, labels by two reviewers (one with an evil name)."""
    add_samples(make_rows(120))
    set_flags([(f"s{i:05d}", "keyword") for i in range(0, 60)]
              + [(f"s{i:05d}", "hate_hateful") for i in range(40, 70)])
    draw_plan(audit, SampleSpec("pilot", strata=("flag",), per_stratum=10, control=10, seed=1,
                                reviewers=("ana", EVIL), overlap=2))
    for reviewer in ("ana", EVIL):
        queue = audit.store.plans.queue_sample_ids("pilot", reviewer)
        label(audit, [(s, "confirm" if int(s[1:]) % 3 == 0 else "reject") for s in queue],
              reviewer=reviewer, seconds_on_item=4.0)
    return audit


def test_html_report_is_self_contained_and_escaped(
    reported: Audit, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "r" / "report.html"
    result = cli("report", reported.root, "--out", out)
    assert result.code == 0, result
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for external in ("src=", "href=", "@import", "url("):
        assert external not in html
    assert html.count("<svg") == 3  # precision whiskers, heat map, agreement
    for section in ("Filter precision", "People vs the LAION NSFW tag", "Sampling plan pilot",
                    "Methods", "Clopper–Pearson", "control (unflagged)"):
        assert section in html


def test_markdown_report(reported: Audit, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "report.md"
    result = cli("report", reported.root, "--out", out)
    assert result.code == 0, result
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Audit report")
    assert "| keyword |" in text and "## Methods" in text


def test_unknown_report_format_is_a_user_error(reported: Audit, tmp_path: Path, cli: Cli) -> None:
    result = cli("report", reported.root, "--out", tmp_path / "r.pdf")
    assert result.code == 2 and "unknown report format" in result.err


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (CI: apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(reported: Audit, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "report.html"
    cli("report", reported.root, "--out", out)
    png = tmp_path / "shot.png"
    profile = tempfile.mkdtemp()
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={png}",
         "--window-size=1200,1600", out.as_uri()],
        check=False, capture_output=True, timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert png.exists(), "chromium wrote no screenshot"
    with Image.open(png) as image:
        assert image.size == (1200, 1600)
        variance = ImageStat.Stat(image.convert("L")).var[0]
    assert variance > 100, "the screenshot is blank"


def test_report_shows_hate_content_rate_when_hate_scores_exist(  # type: ignore[no-untyped-def]
    reported: Audit, tmp_path: Path, monkeypatch, cli: Cli
) -> None:
    import pyarrow as pa

    from reviewer.store.scores import FlagQueries

    # 200 scored captions, 3 above the 0.5 threshold: HCR 1.5 %.
    p = [0.9, 0.7, 0.51] + [0.1] * 197
    scores = pa.table({"sample_id": [f"s{i}" for i in range(200)], "p_hateful": p,
                       "p_targeted": [0.0] * 200, "p_aggressive": [0.0] * 200,
                       "dataset": ["laion400m"] * 200})
    monkeypatch.setattr(FlagQueries, "scores_with_samples", lambda self, flagger, cols: scores)
    out = tmp_path / "report.html"
    result = cli("report", reported.root, "--out", out)
    assert result.code == 0, result
    html = out.read_text(encoding="utf-8")
    assert "Hate content rate" in html and "3 / 200" in html and "1.50%" in html
    assert html.count("<svg") == 4
