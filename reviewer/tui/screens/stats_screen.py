"""The statistics screen: filter precision with whiskers, the tag heat map, reviewer agreement.

A key away from reviewing, so a lead can see whether the numbers have settled
without leaving the terminal. The statistics are computed in a thread worker
(they read every label and join them with the samples in DuckDB), never on the
UI thread; the screen shows "computing…" until they arrive and the reason when
they cannot be computed (no labels yet, one reviewer only).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from reviewer.audit import Audit
from reviewer.errors import ReviewerError
from reviewer.stats import formatting as fmt
from reviewer.stats.audit_stats import TAG_LEVELS, AuditStats, compute_stats
from reviewer.text_safety import neutralise

AXIS_WIDTH = 50


def whisker_line(value: Any, low: Any, high: Any, lo: float = 0.0, hi: float = 1.0,
                 width: int = AXIS_WIDTH, style: str = "cyan") -> Text:
    """A one-line interval: ``├──●──┤`` placed on a [lo, hi] axis of ``width`` cells."""
    if not (fmt.defined(low) and fmt.defined(high)):
        return Text("·" * width, style="dim")
    cells = [" "] * width

    def at(v: float) -> int:
        return max(0, min(width - 1, round((min(hi, max(lo, v)) - lo) / (hi - lo) * (width - 1))))

    a, b = at(low), at(high)
    for i in range(a, b + 1):
        cells[i] = "─"
    cells[a], cells[b] = "├", "┤"
    if fmt.defined(value):
        cells[at(value)] = "●"
    return Text("".join(cells), style=style)


def precision_panel(stats: AuditStats) -> RenderableType:
    """Precision per flag: design-based whisker, then the share among labelled items."""
    table = Table(title="Filter precision = P(confirmed | flagged) (● estimate, ├─┤ interval)",
                  title_justify="left", box=None, padding=(0, 1))
    for column in ("flag", "labels", "precision", "0%" + " " * (AXIS_WIDTH - 6) + "100%"):
        table.add_column(column)
    for r in stats.precision:
        if r["precision"] is not None:
            table.add_row(r["flag"], f"{r['design_labels']:,}", fmt.pct(r["precision"]),
                          whisker_line(r["precision"], r["low"], r["high"]))
        table.add_row(r["flag"] if r["precision"] is None else "",
                      f"{r['judged']:,} labelled", fmt.pct(r["labelled_share"]),
                      whisker_line(r["labelled_share"], r["wilson_low"], r["wilson_high"],
                                   style="dim cyan"))
    if not stats.precision:
        return Text("Filter precision: no flags yet (run `reviewer flag`)")
    return table


def targets_panel(stats: AuditStats) -> RenderableType:
    """Each design-based target: estimate with its whisker, labels used, SRS-equivalent labels."""
    table = Table(title="Targets (design-based; SRS labels = simple random sample labels for"
                  " the same interval width)", title_justify="left", box=None, padding=(0, 1))
    for column in ("target", "labels", "SRS labels", "estimate",
                   "0%" + " " * (AXIS_WIDTH - 6) + "100%"):
        table.add_column(column)
    for t in stats.targets:
        srs = "—" if t["srs_equivalent_labels"] is None else f"{t['srs_equivalent_labels']:,}"
        table.add_row(Text(neutralise(t["target"][:28])), f"{t['labels']:,}", srs,
                      fmt.pct(t["estimate"]), whisker_line(t["estimate"], t["low"], t["high"]))
    methods = dict.fromkeys(t["method"] for t in stats.targets if t["method"])
    table.caption = "; ".join(f"method: {m}" for m in methods) or None
    table.caption_justify = "left"
    return table


def probe_panel(stats: AuditStats) -> RenderableType:
    """Probes compared: judged harmful among each top K (whisker), tag and flag shares.

    Probe names are the user's text: shown as ``Text`` (never markup), neutralised.
    """
    table = Table(title="Probes: harmful among judged items of each top K (├─┤ Wilson)",
                  title_justify="left", box=None, padding=(0, 1))
    for column in ("probe", "judged", "harmful", "0%" + " " * (AXIS_WIDTH - 6) + "100%",
                   "NSFW tag", "UNSURE tag", "keyword", "hate"):
        table.add_column(column)
    for r in stats.probes:
        table.add_row(Text(neutralise(r["probe"][:24])), f"{r['judged']:,}/{r['items']:,}",
                      fmt.pct(r["harmful_share"]),
                      whisker_line(r["harmful_share"], r["harmful_low"], r["harmful_high"]),
                      fmt.pct(r["tag_nsfw"]), fmt.pct(r["tag_unsure"]), fmt.pct(r["keyword"]),
                      fmt.pct(r["hate"]))
    return table


def heat_panel(stats: AuditStats) -> RenderableType:
    """The human-verdict × tag table (estimated for the plan's population when there is a
    plan), each cell shaded by its share of the column, then the coefficients."""
    weighted = bool(stats.field_table_weighted)
    rows = stats.field_table_weighted if weighted else stats.field_table
    totals = {t: sum(float(r[t]) for r in rows) for t in TAG_LEVELS}
    scope = "estimated items of the plan's population" if weighted else "labelled items"
    table = Table(title=f"People (rows) vs LAION NSFW tag (columns), {scope}",
                  title_justify="left")
    table.add_column("verdict")
    for tag in TAG_LEVELS:
        table.add_column(tag, justify="right")
    for row in rows:
        cells: list[RenderableType] = [row["human"]]
        for tag in TAG_LEVELS:
            count = float(row[tag])
            share = count / totals[tag] if totals[tag] else 0.0
            shade = int(40 + 180 * share)
            cells.append(Text(f" {count:,.0f} ({share:.0%}) ",
                              style=f"bold white on rgb(20,{shade // 2},{shade})"))
        table.add_row(*cells)
    coefficients = Table(box=None, padding=(0, 1))
    for column in ("with the tag", "value", "-1" + " " * (AXIS_WIDTH - 3) + "1"):
        coefficients.add_column(column)
    for key, label in fmt.FIELD_LABELS.items():
        e = stats.field_agreement.get(key)
        if e:
            value = fmt.num(e.get("value")) if fmt.defined(e.get("value")) else "undefined"
            coefficients.add_row(label, value, whisker_line(e.get("value"), e.get("low"),
                                                            e.get("high"), -1.0, 1.0))
    return Group(table, coefficients)


def agreement_panel(stats: AuditStats) -> RenderableType:
    """Reviewer agreement coefficients with whiskers on a −1…1 axis, or why there are none."""
    a = stats.agreement
    title = f"Reviewer agreement ({a['n_items']:,} shared items, {a['n_raters']} reviewers)"
    if a.get("note") and not a["overall"]:
        return Text(f"{title}: {a['note']}")
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1))
    for column in ("statistic", "value", "-1" + " " * (AXIS_WIDTH - 3) + "1"):
        table.add_column(column)
    entries = [(label, a["overall"].get(key)) for key, label in fmt.AGREEMENT_LABELS.items()]
    entries += [(f"κ {p['a']}/{p['b']}", p) for p in a["pairs"]]
    for label, e in entries:
        if not e:
            continue
        value = fmt.num(e.get("value")) if fmt.defined(e.get("value")) else "undefined"
        table.add_row(label, value,
                      whisker_line(e.get("value"), e.get("low"), e.get("high"), -1.0, 1.0))
    return table


def summary_text(stats: AuditStats) -> Text:
    """One line of totals and the estimates that matter most."""
    t = stats.totals
    parts = [f"{t['labels']:,} labels on {t['labelled_items']:,} items by {t['reviewers']}"
             f" reviewer(s) · plan {stats.plan or '(none)'} · estimates describe"
             f" {stats.design['describes']}"]
    if stats.prevalence:
        p = stats.prevalence
        parts.append(f"harmful share {fmt.pct(p['estimate'])}"
                     f" ({fmt.pct_range(p['low'], p['high'])})")
    if stats.miss_rate:
        parts.append(f"miss rate {fmt.pct(stats.miss_rate['estimate'])}")
    return Text(" · ".join(parts), style="bold")


class StatsScreen(Screen[None]):
    """Statistics of the audit; ``escape`` closes it, ``r`` computes them again.

    Args:
        audit: The opened audit.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="stats-close"),
        Binding("q", "close", "Close", show=False),
        Binding("r", "refresh_stats", "Recompute", id="stats-refresh"),
    ]

    def __init__(self, audit: Audit) -> None:
        super().__init__(id="stats")
        self.audit = audit
        self.stats: AuditStats | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stats-body"):
            yield Static(Text("computing statistics…", style="dim"), id="stats-content")
        yield Footer()

    def on_mount(self) -> None:
        self.compute()

    @work(thread=True, exclusive=True, exit_on_error=False, group="stats")
    def compute(self) -> None:
        """Compute off the UI thread; hand the result (or the user error) back to it."""
        try:
            stats = compute_stats(self.audit)
        except ReviewerError as exc:
            self.app.call_from_thread(self.show_error, exc.one_line())
            return
        except Exception as exc:  # a bug must not leave the screen "computing" forever
            self.app.call_from_thread(self.show_error, f"statistics failed: {exc!r}")
            raise
        self.app.call_from_thread(self.show_stats, stats)

    def show_stats(self, stats: AuditStats) -> None:
        """Render the computed statistics."""
        self.stats, self.error = stats, None
        notes = Text("\n".join(f"• {n}" for n in stats.notes), style="yellow")
        self.query_one("#stats-content", Static).update(Group(
            summary_text(stats), Text(""), precision_panel(stats), Text(""),
            *((targets_panel(stats), Text("")) if stats.targets else ()), heat_panel(stats),
            Text(""), agreement_panel(stats), Text(""),
            *((probe_panel(stats), Text("")) if stats.probes else ()), notes,
        ))

    def show_error(self, message: str) -> None:
        """Say why there are no statistics."""
        self.error = message
        self.query_one("#stats-content", Static).update(Text(message, style="yellow"))

    def action_refresh_stats(self) -> None:
        self.query_one("#stats-content", Static).update(Text("computing statistics…"))
        self.compute()

    def action_close(self) -> None:
        self.dismiss(None)
