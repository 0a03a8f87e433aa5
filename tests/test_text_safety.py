"""Captions are data: escapes, controls, bidi and markup show as inert, visible text."""

from __future__ import annotations

import io
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from reviewer.text_safety import caption_text, neutralise

HOSTILE_PIECES = [
    "\x1b[2J",
    "\x1b[31m",
    "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "\x1b]0;title\x1b\\",
    "\x07",
    "\x9b2J",
    "\x85",
    "\x7f",
    "\x00",
    "\r",
    "\r\n",
    "\n",
    "\t",
    "\u202egpj.exe",
    "\u2066x\u2069",
    "\u200e\u200f\u061c",
    "\u200b\u200c\u200d\u2060\ufeff",
    "[bold red]",
    "[/]",
    "[link=https://evil.example]x[/link]",
    "[@click=app.quit]q[/]",
    ":warning:",
    "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307",
    "\ud800",
    "\U000e0041",
    "\u2028",
    "plain words",
    "日本語",
]


def forbidden(ch: str) -> bool:
    """Characters that must never reach the terminal from a caption."""
    if ch in "\n\t":
        return False
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs", "Zl", "Zp")


def rendered_plain(text: str, max_chars: int | None = None) -> str:
    """What Rich writes for ``caption_text`` on a plain (non-terminal) console."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False, color_system=None)
    console.print(caption_text(text, max_chars))
    return out.getvalue()


hostile = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=20)), max_size=30
).map("".join)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_no_control_bidi_or_zero_width_survives(text):
    safe = neutralise(text)
    assert not [c for c in safe if forbidden(c)]
    assert not [c for c in caption_text(text).plain if forbidden(c)]


@settings(max_examples=150, deadline=None)
@given(hostile, st.one_of(st.none(), st.integers(0, 50)))
def test_rendering_never_crashes_and_emits_no_escape(text, max_chars):
    out = rendered_plain(text, max_chars)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_ordinary_text_is_left_alone(text):
    if any(unicodedata.combining(c) for c in text):
        return  # stacks of combining marks are counted, covered below
    assert neutralise(text) == text


def test_markup_and_emoji_codes_show_literally():
    caption = "[bold]x[/bold] [link=https://evil.example]click[/link] :warning:"
    text = caption_text(caption)
    assert text.plain == caption
    assert not text.spans
    assert caption in rendered_plain(caption)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "␛[2J"),
        ("a\x07b", "a␇b"),
        ("\x1b]8;;https://evil.example/\x07x\x1b]8;;\x07", "␛]8;;https://evil.example/␇x␛]8;;␇"),
        ("\x7f", "␡"),
        ("\x00", "␀"),
        ("\x9b", "⟨U+009B⟩"),
        ("\u202egpj.exe", "⟨U+202E⟩gpj.exe"),
        ("a\u200bb", "a⟨U+200B⟩b"),
        ("\ufeffx", "⟨U+FEFF⟩x"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a␍b"),
        ("a\tb\nc", "a\tb\nc"),
        ("\u200b" * 1000, "⟨U+200B⟩×1000"),
        ("a\n\n\n\n\nb", "a\n⟨5 line breaks⟩\nb"),
        ("e" + "\u0301" * 30, "e\u0301\u0301⟨+28 combining marks⟩"),
    ],
)
def test_each_hostile_character_has_a_visible_placeholder(raw, shown):
    assert neutralise(raw) == shown


def test_every_control_and_format_code_point_is_covered():
    missed = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if forbidden(chr(cp)) and neutralise(chr(cp)) == chr(cp)
    ]
    assert missed == []


def test_huge_caption_is_cut_with_a_visible_count():
    caption = "word " * 200_000  # 1 MB
    shown = neutralise(caption, max_chars=1000)
    assert shown.startswith("word word")
    assert shown.endswith(f" … ({len(caption) - 1000:,} more characters)")
    assert len(shown) < 1100


def test_placeholders_are_styled_apart_from_caption_text():
    text = caption_text("a\x1bb")
    assert text.plain == "a␛b"
    assert [(s.start, s.end) for s in text.spans] == [(1, 2)]
