"""Show untrusted text (captions, URLs, metadata) in a terminal as data, never as commands.

LAION captions and URLs are scraped from the web. Printed raw, they could clear
the screen (``ESC[2J``), plant hyperlinks (OSC 8), ring the bell, hide words with
zero-width characters, reorder a line with bidi overrides (so "gpj.exe" reads as
"exe.jpg"), or style themselves with Rich markup. The reviewer must see exactly
what is in the data, so every such character is replaced by a *visible*
placeholder instead of being dropped:

- C0 controls and DEL become Unicode control pictures (``␛`` for ESC, ``␇`` for
  BEL, ``␡`` for DEL). An escape sequence therefore reads ``␛[2J``: visible and inert.
- C1 controls, zero-width, bidi, other invisible format characters, line/paragraph
  separators and lone surrogates become ``⟨U+202E⟩``; runs of one such character
  collapse to ``⟨U+200B⟩×500``.
- ``\\n`` and ``\\t`` are kept as layout (a caption's own line breaks help reading);
  ``\\r\\n`` counts as one line break, a lone ``\\r`` shows as ``␍``; three or more
  line breaks in a row collapse to one marked break so a caption cannot push the
  flag reasons off screen.
- Stacks of five or more combining marks ("Zalgo") keep two and are counted.
- Huge captions may be cut to ``max_chars`` with a visible "… (N more characters)".

:func:`caption_text` builds a Rich :class:`~rich.text.Text` without markup or emoji
parsing, so ``[bold red]`` and ``[link=…]`` show literally. Rich is not Textual,
so this stays in the core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # Rich is imported by caption_text only: every CLI line passes here
    from rich.text import Text

Kind = Literal["text", "placeholder", "marker"]

PLACEHOLDER_STYLE = "reverse dim"
"""Style of substituted characters in :func:`caption_text`: clearly not caption text."""
MARKER_STYLE = "italic dim"
"""Style of truncation and collapsing markers."""

_INVISIBLE = (
    "\u0080-\u009f"  # C1 controls (incl. 8-bit CSI U+009B, NEL U+0085)
    "\u00ad\u034f\u061c\u115f\u1160\u180e\u3164\uffa0"  # soft hyphen, CGJ, ALM, fillers
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"  # Arabic/Syriac format characters
    "\u200b-\u200f"  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators, LRE, RLE, PDF, LRO, RLO
    "\u2060-\u2064\u2066-\u206f"  # word joiner, invisible operators, LRI, RLI, FSI, PDI, ...
    "\ud800-\udfff"  # lone surrogates (cannot be encoded for a terminal)
    "\ufeff\ufff9-\ufffb"  # BOM / ZWNBSP, interlinear annotation
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"  # language tags ("ASCII smuggling")
)
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f"  # C0 except \t and \n, plus DEL
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"

_PATTERN = re.compile(
    rf"(?P<breaks>(?:\r?\n){{3,}})"
    rf"|(?P<crlf>\r\n)"
    rf"|(?P<ctrl>[{_CONTROLS}])(?P=ctrl)*"
    rf"|(?P<inv>[{_INVISIBLE}])(?P=inv)*"
    rf"|(?P<marks>[{_COMBINING}]{{5,}})"
)
_SUSPECT = re.compile(rf"[\r\n{_CONTROLS}{_INVISIBLE}{_COMBINING}]")
"""Any character that may need replacing; text without one is returned as it is."""
_RUN_VISIBLE = 3
"""A run of one hostile character up to this long is shown in full; longer runs are counted."""
_MARKS_KEPT = 2


def placeholder(char: str) -> str:
    """The visible stand-in for one control or invisible character."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"⟨U+{code:04X}⟩"


def segments(text: str, max_chars: int | None = None) -> Iterator[tuple[str, Kind]]:
    """Split ``text`` into safe pieces tagged text / placeholder / marker.

    Args:
        text: Untrusted text.
        max_chars: Keep at most this many characters of the input; the rest is
            counted in a final marker. ``None`` keeps everything.

    Yields:
        ``(piece, kind)``; joined, the pieces contain no control, bidi or
        zero-width character other than ``\\n`` and ``\\t``.
    """
    cut = 0
    if max_chars is not None and len(text) > max(max_chars, 0):
        cut = len(text) - max(max_chars, 0)
        text = text[: max(max_chars, 0)]
    if _SUSPECT.search(text) is None:  # the usual caption: nothing to replace
        pieces: Iterator[tuple[str, Kind]] = iter([(text, "text")] if text else [])
    else:
        pieces = _merged(_pieces(text))
    yield from pieces
    if cut:
        yield f" … ({cut:,} more characters)", "marker"


def _pieces(text: str) -> Iterator[tuple[str, Kind]]:
    """Plain stretches and the replacements of hostile matches, in order."""
    pos = 0
    for match in _PATTERN.finditer(text):
        if match.start() > pos:
            yield text[pos : match.start()], "text"
        yield from _replacement(match)
        pos = match.end()
    if pos < len(text):
        yield text[pos:], "text"


def _merged(pieces: Iterator[tuple[str, Kind]]) -> Iterator[tuple[str, Kind]]:
    """Join neighbouring pieces of one kind (thousands of one-character spans are slow)."""
    buffer: list[str] = []
    current: Kind = "text"
    for piece, kind in pieces:
        if kind != current and buffer:
            yield "".join(buffer), current
            buffer = []
        current = kind
        buffer.append(piece)
    if buffer:
        yield "".join(buffer), current


def _replacement(match: re.Match[str]) -> Iterator[tuple[str, Kind]]:
    """The safe pieces standing for one hostile match."""
    group = match.lastgroup
    found = match.group()
    if group == "crlf":
        yield "\n", "text"
    elif group == "breaks":
        count = found.count("\n")
        yield "\n", "text"
        yield f"⟨{count} line breaks⟩", "marker"
        yield "\n", "text"
    elif group == "marks":
        yield found[:_MARKS_KEPT], "text"
        yield f"⟨+{len(found) - _MARKS_KEPT} combining marks⟩", "marker"
    else:
        shown = placeholder(found[0])
        if len(found) <= _RUN_VISIBLE:
            yield shown * len(found), "placeholder"
        else:
            yield f"{shown}×{len(found)}", "placeholder"


def neutralise(text: str, max_chars: int | None = None) -> str:
    """``text`` with every control, escape, bidi and zero-width character made visible.

    Args:
        text: Untrusted text (a caption, URL, flag reason, metadata value).
        max_chars: Optional cap on the input characters kept; the cut is shown as
            "… (N more characters)".

    Returns:
        Plain text safe to print in a terminal: nothing in it is executed or hidden.
    """
    return "".join(piece for piece, _ in segments(text, max_chars))


def caption_text(text: str, max_chars: int | None = None) -> Text:
    """A Rich :class:`Text` of untrusted ``text``: no markup, no emoji codes, placeholders dimmed.

    Rich markup (``[bold]``, ``[link=…]``) and ``:emoji:`` codes show literally,
    because the text is appended as plain content, never parsed.
    """
    from rich.text import Text

    result = Text(no_wrap=False, end="")
    for piece, kind in segments(text, max_chars):
        if kind == "text":
            result.append(piece)
        elif kind == "placeholder":
            result.append(piece, style=PLACEHOLDER_STYLE)
        else:
            result.append(piece, style=MARKER_STYLE)
    result.expand_tabs(4)
    return result


__all__ = ["caption_text", "neutralise", "placeholder", "segments"]
