"""The audit report: one self-contained HTML file (or Markdown) a reader can trust.

Self-contained means no network, no JavaScript, no external stylesheet or font:
inline CSS and inline SVG only, so the file opens the same years later, offline,
attached to an email. Every string that came from users or data (reviewer
names, flag names, plan names, notes) is escaped. The method notes say how each
number was computed, because a precision without its estimator and interval
method cannot be checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from reviewer.atomic import write_text_atomically
from reviewer.errors import ReviewerError
from reviewer.stats import formatting as fmt
from reviewer.stats.allocation import NOISE_LIMIT
from reviewer.stats.audit_stats import TAG_LEVELS, AuditStats
from reviewer.stats.exposure import exposure_rows
from reviewer.stats.report_svg import Whisker, heat_map, whisker_chart

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2933;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d9e2ec;
padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.25rem .55rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f0f4f8}
.meta{color:#52606d}.note{color:#8a4b08}figure{margin:1rem 0}
code{background:#f0f4f8;padding:0 .2rem}
"""

METHOD_NOTES = [
    ("Verdict mapping", "confirm (and escalate) = harmful, reject = benign. unsure and skip are "
     "not judgements of the item: they are left out of every binary statistic and counted "
     "separately. An item judged by several reviewers takes the majority verdict; a tie counts "
     "as unsure."),
    ("Design-based estimates (the headline figures)", "Only the plan's items count; each "
     "labelled item of stratum h stands for N_h / m_h items (N_h: stratum size, m_h: items of h "
     "with a binary verdict). Precision, prevalence, miss rate, recall and the share confirmed "
     "per tag are Hájek ratio estimators Σ w·a / Σ w·b with Taylor-linearised stratified "
     "variance, where each stratum's variance is at least its add-half binomial variance "
     "p(1 − p), p = (k + ½)/(m + 1), so a stratum whose labels all agree, or with one label, "
     "still adds uncertainty. Interval: Korn–Graubard, i.e. Clopper–Pearson on the effective "
     "sample size n* = p(1 − p)/Var with a degrees-of-freedom factor, as R "
     "survey::svyciprop(method='beta'); it has zero width only when every item is labelled. "
     "A stratum without labels widens the interval to its worst case (all 0 or all 1)."),
    ("Among labelled items (secondary)", "k confirmed out of n judged items that the flag "
     "raised, whatever queue they came from, with Wilson score and Clopper–Pearson (exact) "
     "intervals (Newcombe 1998). This describes the labels, not the dataset."),
    ("Agreement with the tag", "One verdict per plan item (majority) against the item's LAION "
     "NSFW tag, binarised at UNSURE and at NSFW for Cohen's κ, Gwet's AC1, PABAK and percent "
     "agreement, and on the 3-level scale (reject < unsure < confirm) for weighted κ. Every "
     "coefficient is computed from the design-weighted table (N_h / m_h per item); κ and AC1 "
     "get stratified jackknife (JKn) standard errors, each stratum at least its add-half "
     "linearised variance, with a t(m − H) interval, percent "
     "agreement the Korn–Graubard interval and PABAK = 2·p_o − 1 its mapped interval. "
     "A rater that used one category for every item makes κ uninformative (said, not 0)."),
    ("Agreement among reviewers", "Among labelled items judged by two or more reviewers, binary "
     "verdicts; Fleiss' κ and Gwet's AC1 with Gwet's variance, Krippendorff's α with a seeded "
     "bootstrap, Cohen's κ per pair."),
    ("Miss rate and recall", "The control stratum is a simple random sample of items no flag "
     "raised; its design-based harmful share is the miss rate. Recall of a flag is the "
     "estimated harmful items it raised over all estimated harmful items (strata and control "
     "together); because the harmful items of the control are themselves estimated, a control "
     "with no harmful label still leaves recall uncertain."),
    ("Sampling", "Within each stratum items are ranked by a seeded hash of their id and the first "
     "n_h kept: a simple random sample, reproducible from the seed. Inclusion probability "
     "n_h / N_h is stored per item. Escalated (quarantined) items are excluded."),
    ("Targets and label budgets", "Each target is a design-based estimate above; its SRS "
     "labels are the Korn–Graubard effective n, the simple-random-sample labels whose variance "
     "equals this design's. A plan drawn with sample --budget cut a model score into bands at "
     "its quantiles and chose the cuts and labels per band (fixed before any label) that "
     "minimise the variance this report computes, per-band floor included, at each band's "
     "mean score as its guessed rate, mixed with proportional allocation so a noise score "
     f"costs at most {NOISE_LIMIT:g}× SRS's variance."),
]


def write_report(stats: AuditStats, out: Path) -> Path:
    """Write the report as HTML (``.html``/``.htm``) or Markdown (``.md``) and return the path."""
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html(stats)
    elif suffix in (".md", ".markdown"):
        text = render_markdown(stats)
    else:
        raise ReviewerError(f"--out {out}: unknown report format", "use a .html or .md file")
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ReviewerError(
            f"--out {out}: {blocker} is a file, not a folder", "choose another path"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a full disk must not leave an empty report, or
        # truncate the previous one.
        write_text_atomically(out, text)
    except OSError as exc:
        raise ReviewerError(
            f"{out}: cannot write the report ({exc.strerror or exc})",
            "check the folder exists, is writable and has free space",
        ) from exc
    return out


# ---- shared table content ------------------------------------------------------------


def _tables(stats: AuditStats) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table, shared by HTML and Markdown."""
    t = stats.totals
    out = [("Overview", ["", "count"], [
        ["samples", f"{t['samples']:,}"], ["flagged (any flag)", f"{t['flagged']:,}"],
        ["labels", f"{t['labels']:,}"], ["labelled items", f"{t['labelled_items']:,}"],
        ["reviewers", f"{t['reviewers']:,}"],
        *[[k, f"{v:,}"] for k, v in t["verdicts"].items()],
    ])]
    out.append(("Design", ["", ""], [
        ["estimates describe", stats.design["describes"]],
        ["labels on the plan's items", f"{stats.design['plan_labels']:,}"],
        ["labels elsewhere (only in figures 'among labelled items')",
         f"{stats.design['other_labels']:,}"],
    ]))
    out.append(("People vs the LAION NSFW tag (labelled items)", ["human verdict", *TAG_LEVELS],
                [[r["human"], *(f"{r[c]:,}" for c in TAG_LEVELS)] for r in stats.field_table]))
    out.append(("People vs the LAION NSFW tag (estimated items of the plan's population)",
                ["human verdict", *TAG_LEVELS],
                [[r["human"], *(f"{r[c]:,.0f}" for c in TAG_LEVELS)]
                 for r in stats.field_table_weighted]))
    out.append(("Share confirmed per tag level",
                ["tag", "share (design)", "interval", "among labelled: confirmed / judged",
                 "share", "Wilson"],
                [[r["tag"], fmt.pct(r["share"]), fmt.pct_range(r["low"], r["high"]),
                  f"{r['confirmed']:,} / {r['judged']:,}", fmt.pct(r["labelled_share"]),
                  fmt.pct_range(r["labelled_low"], r["labelled_high"])]
                 for r in stats.field_by_tag]))
    scope = "design-based" if stats.field_table_weighted else "among labelled items"
    out.append((f"Agreement with the tag ({scope})", ["statistic", "value [CI]"],
                [[label, fmt.estimate(stats.field_agreement.get(key))]
                 for key, label in fmt.FIELD_LABELS.items() if key in stats.field_agreement]))
    out.append(("Filter precision = P(confirmed | flagged)",
                ["flag", "flagged", "precision (design)", "interval", "plan labels",
                 "among labelled: confirmed / judged", "share", "Wilson", "Clopper–Pearson",
                 "recall [CI]"],
                [[r["flag"], f"{r['flagged']:,}", fmt.pct(r["precision"]),
                  fmt.pct_range(r["low"], r["high"]), f"{r['design_labels']:,}",
                  f"{r['confirmed']:,} / {r['judged']:,}", fmt.pct(r["labelled_share"]),
                  fmt.pct_range(r["wilson_low"], r["wilson_high"]),
                  fmt.pct_range(r["cp_low"], r["cp_high"]),
                  _with_range(r["recall"], r["recall_low"], r["recall_high"])]
                 for r in stats.precision]))
    out.append(("Targets", ["target", "estimate", "interval", "labels",
                            "SRS labels for the same interval"],
                [[t["target"], fmt.pct(t["estimate"]), fmt.pct_range(t["low"], t["high"]),
                  f"{t['labels']:,}", "—" if t["srs_equivalent_labels"] is None
                  else f"{t['srs_equivalent_labels']:,}"] for t in stats.targets]))
    out.append(("Prevalence and misses", ["estimate", "value", "interval"],
                _prevalence_rows(stats)))
    out.append(("Flag overlap", ["flags", "items raised by both"],
                [[f"{o['flag_a']} & {o['flag_b']}", f"{o['items']:,}"] for o in stats.overlap]))
    a = stats.agreement
    out.append((f"Reviewer agreement ({a['n_items']:,} shared items)", ["statistic", "value [CI]"],
                [[label, fmt.estimate(a["overall"].get(key))]
                 for key, label in fmt.AGREEMENT_LABELS.items() if key in a["overall"]]
                + [[f"Cohen κ {p['a']} / {p['b']}", fmt.estimate(p)] for p in a["pairs"]]))
    out.append(("Reviewers", ["reviewer", "items", "confirm", "reject", "unsure", "skip",
                              "escalate", "median s/item", "reveals", "revealed s", "breaks"],
                [[r["reviewer"], f"{r['items']:,}", f"{r['confirm']:,}", f"{r['reject']:,}",
                  f"{r['unsure']:,}", f"{r['skip']:,}", f"{r['escalate']:,}",
                  fmt.seconds(r["median_seconds"]), f"{r['reveals']:,}",
                  f"{r['revealed_seconds']:.0f}", f"{r['breaks_taken']:,}"]
                 for r in stats.reviewers]))
    out.append(("Probes: top K by similarity (harmful = confirmed among judged items)",
                ["probe", "kind", "K", "judged", "harmful", "interval", "tagged NSFW",
                 "tagged UNSURE", "keyword flag", "hate flag", "similarity"],
                [[r["probe"], r["kind"], f"{r['items']:,}", f"{r['judged']:,}",
                  fmt.pct(r["harmful_share"]), fmt.pct_range(r["harmful_low"], r["harmful_high"]),
                  fmt.pct(r["tag_nsfw"]), fmt.pct(r["tag_unsure"]), fmt.pct(r["keyword"]),
                  fmt.pct(r["hate"]), _similarity_range(r)] for r in stats.probes]))
    if stats.exposure:
        out.append(("Exposure: seen to decide", ["figure", "value"], exposure_rows(stats.exposure)))
    out.append(("Hate content rate", ["dataset", "type", "threshold", "k / n", "HCR",
                                      "Wilson", "Clopper–Pearson"],
                [[r["group"], r["type"], f"{r['threshold']:g}", f"{r['k']:,} / {r['n']:,}",
                  fmt.pct(r["hcr"], 2), fmt.pct_range(r["wilson_low"], r["wilson_high"], 2),
                  fmt.pct_range(r["cp_low"], r["cp_high"], 2)] for r in stats.hcr]))
    out.append((f"Sampling plan {stats.plan or '(none)'}",
                ["stratum", "N_h", "n_h", "labelled", "n_h / N_h", "control"],
                [[s["stratum"], f"{s['population']:,}", f"{s['drawn']:,}",
                  f"{s.get('labelled', 0):,}", f"{s['inclusion_prob']:.4g}",
                  "yes" if s["is_control"] else ""]
                 for s in stats.strata]))
    return out


def _similarity_range(row: dict[str, object]) -> str:
    low, high = row["min_similarity"], row["top_similarity"]
    return "—" if low is None or high is None else f"{low:.2f}–{high:.2f}"


def _with_range(value: float | None, low: float | None, high: float | None) -> str:
    return f"{fmt.pct(value)} {fmt.pct_range(low, high)}" if value is not None else fmt.DASH


def _prevalence_rows(stats: AuditStats) -> list[list[str]]:
    rows = []
    if stats.prevalence:
        p = stats.prevalence
        rows.append(["harmful share of the plan's population (design-based)",
                     fmt.pct(p["estimate"]), fmt.pct_range(p["low"], p["high"])])
    if stats.miss_rate:
        m = stats.miss_rate
        rows.append([f"miss rate: {m['harmful']:,} / {m['judged']:,} unflagged items harmful",
                     fmt.pct(m["estimate"]), fmt.pct_range(m["low"], m["high"])])
    return rows


def _precision_whiskers(stats: AuditStats) -> list[Whisker]:
    return [Whisker(r["flag"], r["precision"], r["low"], r["high"],
                    r["labelled_share"], r["wilson_low"], r["wilson_high"])
            for r in stats.precision]


def _agreement_whiskers(stats: AuditStats) -> list[Whisker]:
    rows = [Whisker(label, e.get("value"), e.get("low"), e.get("high"))
            for key, label in fmt.AGREEMENT_LABELS.items()
            if (e := stats.agreement["overall"].get(key))]
    rows += [Whisker(label, e.get("value"), e.get("low"), e.get("high"))
             for key, label in fmt.FIELD_LABELS.items()
             if "kappa" in key or "ac1" in key
             if (e := stats.field_agreement.get(key))]
    return rows


# ---- HTML ------------------------------------------------------------------------------


def _html_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p class=meta>none</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def render_html(stats: AuditStats) -> str:
    """The whole report as one self-contained HTML document."""
    charts: list[str] = []
    if stats.precision:
        charts.append(whisker_chart(_precision_whiskers(stats), 0, 1,
                                    f"Filter precision, {stats.confidence:.0%} intervals",
                                    legend=("design-based (the plan's population)",
                                            "among labelled items (Wilson)")))
    charts.append(heat_map(stats.field_table, "human", TAG_LEVELS,
                           "People (rows) vs LAION NSFW tag (columns)"))
    if stats.hcr:
        top = max((r["wilson_high"] or 0.0) for r in stats.hcr)
        charts.append(whisker_chart(
            [Whisker(f"{r['group']} · {r['type']}", r["hcr"], r["wilson_low"], r["wilson_high"])
             for r in stats.hcr],
            0, min(1.0, max(0.01, top * 1.25)),
            f"Hate content rate at P ≥ {stats.hcr[0]['threshold']:g} (Wilson intervals)",
            legend=("HCR with interval", "")))
    agreement = _agreement_whiskers(stats)
    if agreement:
        charts.append(whisker_chart(agreement, -1, 1, "Agreement coefficients",
                                    legend=("coefficient with interval", "")))
    body = [f"<h1>Audit report</h1><p class=meta>{escape(stats.audit)} · generated "
            f"{escape(stats.generated_at)} · plan {escape(stats.plan or '(none)')} · "
            f"category {escape(stats.category)}</p>"]
    body += [f"<figure>{chart}</figure>" for chart in charts]
    body += [_html_table(*table) for table in _tables(stats)]
    if stats.plan_spec:
        spec = ", ".join(f"{k}={v}" for k, v in stats.plan_spec.items())
        body.append(f"<p class=meta>plan options: {escape(spec)}</p>")
    if notes := _all_notes(stats):
        body.append("<h2>Notes</h2><ul>" + "".join(
            f"<li class=note>{escape(n)}</li>" for n in notes) + "</ul>")
    body.append("<h2>Methods</h2><dl>" + "".join(
        f"<dt><b>{escape(t)}</b></dt><dd>{escape(d)}</dd>" for t, d in METHOD_NOTES) + "</dl>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width'>"
            f"<title>Audit report</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _all_notes(stats: AuditStats) -> list[str]:
    notes = list(stats.notes)
    for row in stats.precision:
        notes += [f"{row['flag']}: {n}" for n in row["notes"]]
    if stats.agreement.get("note"):
        notes.append(f"reviewer agreement: {stats.agreement['note']}")
    return notes


# ---- Markdown --------------------------------------------------------------------------


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!#|~])")


def _md_cell(text: str) -> str:
    """Data as Markdown text: HTML made inert (``&lt;script&gt;``), Markdown punctuation
    escaped so a reviewer or plan name cannot become a link, an image or a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=False)).replace("\n", " ")


def render_markdown(stats: AuditStats) -> str:
    """The report as Markdown tables (no charts)."""
    lines = ["# Audit report", "",
             f"{_md_cell(stats.audit)} · generated {stats.generated_at} · plan "
             f"{_md_cell(stats.plan or '(none)')} · category {_md_cell(stats.category)}", ""]
    for title, header, rows in _tables(stats):
        lines += [f"## {_md_cell(title)}", ""]
        if not rows:
            lines += ["none", ""]
            continue
        lines.append("| " + " | ".join(_md_cell(h) or " " for h in header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    if notes := _all_notes(stats):
        lines += ["## Notes", "", *(f"- {_md_cell(n)}" for n in notes), ""]
    lines += ["## Methods", "", *(f"- **{t}.** {d}" for t, d in METHOD_NOTES), ""]
    return "\n".join(lines)
