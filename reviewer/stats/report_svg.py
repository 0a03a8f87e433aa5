"""Inline SVG charts for the static report: no JavaScript, no network, every label escaped.

Two charts carry the audit's findings: proportions with interval whiskers (filter
precision, agreement coefficients) and a heat map of the people-vs-tag table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from reviewer.stats.formatting import defined

INK = "#1f2933"
GRID = "#d9e2ec"
PLAIN = "#2f6fb0"
WEIGHTED = "#c2410c"


@dataclass(frozen=True)
class Whisker:
    """One row of a whisker chart: a point with an interval, optionally a second one."""

    label: str
    value: float | None
    low: float | None
    high: float | None
    value2: float | None = None
    low2: float | None = None
    high2: float | None = None


def whisker_chart(
    rows: Sequence[Whisker],
    lo: float = 0.0,
    hi: float = 1.0,
    title: str = "",
    legend: tuple[str, str] = ("among labelled items", "weighted to the dataset"),
) -> str:
    """Points with confidence whiskers on a [lo, hi] axis, one row per entry."""
    left, width, row_h, top = 250, 480, 30, 34
    height = top + row_h * len(rows) + 40
    x = _scale(lo, hi, left, width)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}"'
             f' height="{height}" role="img" aria-label="{escape(title)}">',
             f'<text x="4" y="16" font-size="13" fill="{INK}">{escape(title)}</text>']
    for i in range(5):
        tick = lo + (hi - lo) * i / 4
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}"'
                     f' y2="{height - 34}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 20}" font-size="11"'
                     f' text-anchor="middle" fill="{INK}">{_tick(tick, lo, hi)}</text>')
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end"'
                     f' fill="{INK}">{escape(row.label[:38])}</text>')
        parts += _whisker(x, y - 5, row.value, row.low, row.high, PLAIN)
        parts += _whisker(x, y + 5, row.value2, row.low2, row.high2, WEIGHTED)
        if not defined(row.value) and not defined(row.value2):
            parts.append(f'<text x="{left + 6}" y="{y + 4:.1f}" font-size="11"'
                         f' fill="{INK}">undefined</text>')
    parts.append(f'<circle cx="{left}" cy="{height - 6}" r="4" fill="{PLAIN}"/>'
                 f'<text x="{left + 8}" y="{height - 2}" font-size="11">{escape(legend[0])}</text>')
    if legend[1]:
        parts.append(f'<circle cx="{left + 220}" cy="{height - 6}" r="4" fill="{WEIGHTED}"/>'
                     f'<text x="{left + 228}" y="{height - 2}" font-size="11">'
                     f'{escape(legend[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _scale(lo: float, hi: float, left: float, width: float):  # type: ignore[no-untyped-def]
    def x(value: float) -> float:
        clipped = min(hi, max(lo, value))
        return left + (clipped - lo) / (hi - lo) * width

    return x


def _tick(value: float, lo: float, hi: float) -> str:
    if lo >= 0 and hi <= 1:
        return f"{value:.1%}" if hi - lo < 0.1 else f"{value:.0%}"
    return f"{value:.1f}"


def _whisker(x, y: float, value: float | None, low: float | None,  # type: ignore[no-untyped-def]
             high: float | None, colour: str) -> list[str]:
    parts = []
    if defined(low) and defined(high):
        parts.append(f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}"'
                     f' stroke="{colour}" stroke-width="2"/>')
        for end in (low, high):
            parts.append(f'<line x1="{x(end):.1f}" y1="{y - 4:.1f}" x2="{x(end):.1f}"'
                         f' y2="{y + 4:.1f}" stroke="{colour}" stroke-width="2"/>')
    if defined(value):
        parts.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
    return parts


def heat_map(
    table: Sequence[dict[str, object]], rows_key: str, columns: Sequence[str], title: str
) -> str:
    """A heat map of counts; colour shows each cell's share of its column."""
    cell_w, cell_h, left, top = 110, 42, 110, 50
    totals = {c: sum(int(str(r[c])) for r in table) for c in columns}
    width, height = left + cell_w * len(columns) + 10, top + cell_h * len(table) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
             f' role="img" aria-label="{escape(title)}">',
             f'<text x="4" y="16" font-size="13" fill="{INK}">{escape(title)}</text>']
    for j, col in enumerate(columns):
        parts.append(f'<text x="{left + cell_w * j + cell_w / 2}" y="{top - 8}" font-size="12"'
                     f' text-anchor="middle" fill="{INK}">{escape(col)}</text>')
    for i, row in enumerate(table):
        y = top + cell_h * i
        parts.append(f'<text x="{left - 8}" y="{y + cell_h / 2 + 4}" font-size="12"'
                     f' text-anchor="end" fill="{INK}">{escape(str(row[rows_key]))}</text>')
        for j, col in enumerate(columns):
            count = int(str(row[col]))
            share = count / totals[col] if totals[col] else 0.0
            shade = int(245 - 170 * share)
            text_colour = "#ffffff" if share > 0.55 else INK
            parts.append(
                f'<rect x="{left + cell_w * j}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}"'
                f' fill="rgb({shade},{shade + 5 if shade < 250 else 250},255)"/>'
                f'<text x="{left + cell_w * j + cell_w / 2}" y="{y + cell_h / 2 + 4}"'
                f' font-size="12" text-anchor="middle" fill="{text_colour}">'
                f'{count:,} ({share:.0%})</text>'
            )
    parts.append(f'<text x="4" y="{height - 8}" font-size="11" fill="{INK}">'
                 "colour: share of the column (tag level)</text></svg>")
    return "".join(parts)
