"""Smaller defects of the fault sweep (issue 13, item 6), each pinned by a test."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, assert_one_line_error

from reviewer.audit import Audit
from reviewer.sampling import SampleSpec, draw_plan, plan_sizes
from reviewer.stats.audit_stats import compute_stats
from reviewer.stats.report import render_markdown
from reviewer.store import Decision


def test_markdown_report_writes_names_as_text_not_html(demo: Path) -> None:
    audit = Audit.open(demo)
    hostile = "<script>alert(1)</script>"
    audit.labels.record(Decision("demo-040", hostile, "nsfw", "confirm"))
    draw_plan(audit, SampleSpec(name="<img src=x onerror=alert(1)>", strata=("nsfw",)))
    text = render_markdown(compute_stats(audit, plan="<img src=x onerror=alert(1)>"))
    audit.close()
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text


def test_markdown_report_names_cannot_become_links_or_images(demo: Path) -> None:
    audit = Audit.open(demo)
    name = "![x](http://tracker.example/p.png)"
    audit.labels.record(Decision("demo-040", name, "nsfw", "reject"))
    text = render_markdown(compute_stats(audit))
    audit.close()
    assert "](http" not in text and "!\\[x\\]\\(http://tracker.example/p.png\\)" in text


def test_stats_prints_no_line_break_marker(demo: Path, cli: Cli) -> None:
    result = cli("stats", demo)
    assert result.code == 0, result
    assert "line breaks⟩" not in result.out
    assert "\n\n\nNotes" not in result.out and "\nNotes\n" in result.out


def test_plan_and_sample_report_progress(demo: Path) -> None:
    """The CLI draws a bar from these calls once the work passes one second."""
    audit = Audit.open(demo)
    counted: list[tuple[int, int | None]] = []
    plan_sizes(audit, ["nsfw"], 0.05, 0.95, 0.5, flagged_only=False, progress=lambda d, t:
               counted.append((d, t)))
    drawn: list[tuple[int, int | None]] = []
    draw_plan(audit, SampleSpec(name="p", strata=("nsfw",)), progress=lambda d, t:
              drawn.append((d, t)))
    audit.close()
    assert counted and counted[-1] == (100, 100)
    assert drawn and drawn[-1] == (100, 100)


def test_click_usage_errors_are_one_line(demo: Path, cli: Cli) -> None:
    cases = [
        (["export", demo, "--out", demo / "x.csv", "--verdict", "bogus"], "'bogus'"),
        (["stats", demo, "--bogus"], "--bogus"),
        (["stats"], "Missing argument"),
        (["--bogus"], "--bogus"),
        (["nosuchcommand"], "nosuchcommand"),
    ]
    for args, fragment in cases:
        result = cli(*args)
        line = assert_one_line_error(result, fragment, "--help`")
        assert result.code == 2 and "Usage:" not in line


def test_a_bare_reviewer_still_shows_the_help(cli: Cli) -> None:
    result = cli()
    assert "Usage:" in result.out + result.err and "Commands:" in result.out + result.err


def test_the_api_accepts_the_cli_spelling_of_a_flagger(demo: Path) -> None:
    import reviewer

    handle = reviewer.open_audit(demo)
    assert handle.scores("nsfw-field").num_rows == handle.scores("nsfw_field").num_rows == 53
    handle.audit.close()
