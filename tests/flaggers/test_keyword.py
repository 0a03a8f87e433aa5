"""The keyword flagger reproduces the 2021 LAION-400M audit's rule exactly.

The reference below is the audit's published check, one row at a time: lower-case
caption and URL, flag when either contains any of the seven substrings.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.errors import ReviewerError
from reviewer.flaggers.keyword import (
    AUDIT_2021_TERMS,
    DEFAULT_LIST,
    LOWERS_INTO_ASCII,
    KeywordFlagger,
    read_keyword_file,
)


def reference_2021(text: str | None, url: str | None) -> bool:
    """The 2021 audit's pandas rule (None never matches: 'none'/'nan' hold no term)."""
    words = ["porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "]
    return any(w in str(text).lower() for w in words) or any(w in str(url).lower() for w in words)


def _chunked(values: list[str | None]) -> pa.ChunkedArray:
    """Columns in chunks of 7 rows, as DuckDB hands them over in chunks: a candidate's
    row must be found in the chunk that holds it."""
    return pa.chunked_array(
        [pa.array(values[i : i + 7], pa.string()) for i in range(0, len(values), 7)],
        pa.string(),
    )


def score(flagger: KeywordFlagger, rows: list[tuple[str | None, str | None]]) -> list[dict]:
    table = pa.table(
        {
            "sample_id": [f"s{i}" for i in range(len(rows))],
            "text": _chunked([r[0] for r in rows]),
            "url": _chunked([r[1] for r in rows]),
        }
    )
    by_id = {r["sample_id"]: r for r in flagger.score_batch(table).to_pylist()}
    return [by_id[f"s{i}"] for i in range(len(rows))]  # output order is not input order


HAND_CHECKED = [
    # (caption, url, substring caption terms, substring url terms, word caption terms)
    ("Essex countryside", "https://a.org/1.jpg", ["sex"], [], []),
    ("hot dog with mustard", None, ["hot "], [], ["hot "]),
    ("it is hot", None, [], [], ["hot "]),  # no trailing space: the 2021 rule misses it
    ("a shot glass", None, ["hot "], [], []),
    ("HOT Stuff", None, ["hot "], [], ["hot "]),
    ("grape juice", None, [], [], []),  # ' rape ' needs a space on both sides
    ("stop rape now", None, [" rape "], [], [" rape "]),
    ("rape at the start", None, [], [], [" rape "]),
    ("plain caption", "https://x.com/XXX/porn.jpg", [], ["porn", "xxx"], []),
    (None, None, [], [], []),
    ("", "", [], [], []),
    ("Adult fuck SEX", None, ["adult", "sex", "fuck"], [], ["adult", "sex", "fuck"]),
    ("pornography", None, ["porn"], [], []),
]


def test_substring_mode_matches_hand_checked_cases() -> None:
    results = score(KeywordFlagger(), [(c, u) for c, u, *_ in HAND_CHECKED])
    for (caption, url, want_caption, want_url, _), got in zip(HAND_CHECKED, results, strict=True):
        assert sorted(got["caption_terms"]) == sorted(want_caption), caption
        assert sorted(got["url_terms"]) == sorted(want_url), url
        assert bool(want_caption or want_url) == reference_2021(caption, url)


def test_word_mode_uses_word_boundaries() -> None:
    results = score(KeywordFlagger(mode="word"), [(c, None) for c, *_ in HAND_CHECKED])
    for (caption, _, _, _, want_word), got in zip(HAND_CHECKED, results, strict=True):
        assert sorted(got["caption_terms"]) == sorted(want_word), caption


def test_url_only_match_is_attributed_to_the_url() -> None:
    [row] = score(KeywordFlagger(), [("a red bicycle", "http://Adult-Site.example/1.jpg")])
    assert row["caption_terms"] == []
    assert row["url_terms"] == ["adult"]


def test_a_match_across_two_rows_does_not_hide_a_term_in_the_second() -> None:
    """The pre-filter searches all captions as one buffer and skips past each match:
    "ho" + "t rape x" reads "hot rape x", whose match "hot " eats the space of " rape "."""
    rows = score(KeywordFlagger(), [("ho", None), ("t rape x", None), ("Essex", None)])
    assert [r["caption_terms"] for r in rows] == [[], [" rape "], ["sex"]]


def test_unicode_case_folding_follows_lower() -> None:
    # The Kelvin sign lower-cases to "k", so str.lower() turns it into "fuck".
    [row] = score(KeywordFlagger(), [("FUC\u212a", None)])
    assert row["caption_terms"] == ["fuck"]


TEXT = st.text(alphabet=st.sampled_from(list("pornhotadulxsefckgiEXSPORNHOT /.-_é")), max_size=30)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.none() | TEXT, st.none() | TEXT), min_size=1, max_size=60))
def test_substring_mode_equals_the_2021_rule(rows: list[tuple[str | None, str | None]]) -> None:
    results = score(KeywordFlagger(), rows)
    for (caption, url), got in zip(rows, results, strict=True):
        flagged = bool(got["caption_terms"] or got["url_terms"])
        assert flagged == reference_2021(caption, url)
        assert set(got["caption_terms"]) == {
            w for w in AUDIT_2021_TERMS if caption is not None and w in caption.lower()
        }


def test_shipped_list_is_the_2021_list() -> None:
    assert read_keyword_file(DEFAULT_LIST) == list(AUDIT_2021_TERMS)


def test_custom_list_keeps_quoted_spaces_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text('# comment\n\n"nude "\nGORE\n', encoding="utf-8")
    flagger = KeywordFlagger(keywords=path)
    assert flagger.terms == ["nude ", "gore"]
    rows = score(flagger, [("nude beach", None), ("nudes", None), ("Gore-Tex", None)])
    assert [r["caption_terms"] for r in rows] == [["nude "], [], ["gore"]]


def test_empty_or_missing_list_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ReviewerError, match="empty"):
        KeywordFlagger(keywords=empty)
    with pytest.raises(ReviewerError, match="cannot read"):
        KeywordFlagger(keywords=tmp_path / "missing.txt")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ReviewerError, match="mode"):
        KeywordFlagger(mode="fuzzy")


def test_mode_and_terms_define_the_run_identity() -> None:
    assert KeywordFlagger().params() != KeywordFlagger(mode="word").params()
    assert KeywordFlagger().params()["terms"] == list(AUDIT_2021_TERMS)


def test_options_not_given_come_from_the_audits_flags_settings(tmp_path: Path) -> None:
    """``[flags] keyword_mode`` and a keyword_list relative to the audit folder reach the
    flagger that `reviewer flag` builds; explicit options still win."""
    from reviewer.audit import Audit
    from reviewer.flaggers.runner import build_flagger

    audit = Audit.init(tmp_path / "audit")
    (audit.root / "mine.txt").write_text("zebra\nokapi\n")
    toml = audit.root / "reviewer.toml"
    toml.write_text(toml.read_text().replace('keyword_mode = "substring"', 'keyword_mode = "word"')
                    .replace('keyword_list = ""', 'keyword_list = "mine.txt"'))
    audit.close()
    audit = Audit.open(tmp_path / "audit")
    built = build_flagger(audit, "keyword")
    assert isinstance(built, KeywordFlagger)
    assert built.params() == {"mode": "word", "terms": ["zebra", "okapi"]}
    assert build_flagger(audit, "keyword", mode="substring").params()["mode"] == "substring"
    audit.close()


def test_lowers_into_ascii_names_every_character_duckdb_lowers_into_ascii() -> None:
    """The ASCII pre-filter's extra patterns are complete: checked on every code point."""
    import duckdb

    chars = pa.table(
        {"c": [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]}
    )
    with duckdb.connect() as conn:
        found = conn.from_arrow(chars).filter("regexp_matches(lower(c), '[\\x01-\\x7f]')")
        lowered = sorted(r[0] for r in found.fetchall())
    assert lowered == sorted(LOWERS_INTO_ASCII)


def duckdb_rule(terms: list[str], values: list[str | None]) -> list[list[str]]:
    """The exact rule written straight in DuckDB, one value at a time (the reference)."""
    import duckdb

    with duckdb.connect() as conn:
        return [
            [t for t in terms if v is not None
             and conn.execute("SELECT contains(lower(?), ?)", [v, t]).fetchone()[0]]
            for v in values
        ]


UNICODE_TEXT = st.text(
    alphabet=st.sampled_from(list("hikpornHIKPORN x.-\u0130\u212a\u0131\u00e9\u00c9\u03a3")),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.none() | UNICODE_TEXT, min_size=1, max_size=40))
def test_prefilter_and_exact_check_equal_duckdbs_rule(values: list[str | None]) -> None:
    """Custom terms with 'i' and 'k' meet the characters lower() maps into ASCII."""
    terms = ["hi", "k", "porn", "x.-"]
    results = score(KeywordFlagger(terms=terms), [(v, v) for v in values])
    want = duckdb_rule(terms, values)
    for value, got, expected in zip(values, results, want, strict=True):
        assert got["caption_terms"] == expected, value
        assert got["url_terms"] == expected, value
