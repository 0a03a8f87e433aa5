"""``reviewer sample`` (draw a stratified review queue) and ``reviewer plan`` (how many labels)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path

import click

from reviewer.cli.output import echo

STRATA_HELP = (
    "Comma-separated stratification keys, crossed: flag (set of flags raised), nsfw (LAION tag), "
    "punsafe (banded at [flags] punsafe_cuts), dataset, score:FLAG (that flag's score in --bands)."
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _bands(text: str) -> tuple[float, ...]:
    from reviewer.errors import ReviewerError

    try:
        return tuple(float(b) for b in _split(text))
    except ValueError as exc:
        raise ReviewerError(
            f"--bands {text}: not a list of numbers", "e.g. --bands 0.5,0.7,0.9"
        ) from exc


@click.command("sample")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Plan name; reviewers open it with --queue NAME.")
@click.option("--strata", default="flag", show_default=True, help=STRATA_HELP)
@click.option("--per-stratum", default=100, show_default=True, help="Items drawn per stratum.")
@click.option(
    "--control", default=0, show_default=True,
    help="Unflagged items drawn as a control stratum (to estimate misses and recall).",
)
@click.option("--seed", default=0, show_default=True, help="Same seed, same queue.")
@click.option("--reviewers", default="", help="Share the queue among these reviewers: a,b,c.")
@click.option(
    "--overlap", default=1, show_default=True,
    help="How many of --reviewers see each overlap item (for agreement statistics).",
)
@click.option(
    "--overlap-share", default=1.0, show_default=True,
    help="Share of the queue (from its start) that is overlapped.",
)
@click.option("--bands", default="0.5,0.7,0.9", show_default=True, help="Cuts for score:FLAG.")
@click.option("--budget", type=int, default=None,
              help="Spend this many labels where they narrow --target's interval most.")
@click.option("--target", default=None,
              help="With --budget: prevalence or precision:FLAG.")
@click.option("--using", default=None,
              help="With --budget: the flag whose score guides the allocation.")
@click.option("--replace", is_flag=True, help="Draw again over an existing plan of this name.")
@click.option("--json", "as_json", is_flag=True, help="Print the strata as JSON.")
def sample_command(
    directory: Path, name: str, strata: str, per_stratum: int, control: int, seed: int,
    reviewers: str, overlap: int, overlap_share: float, bands: str, budget: int | None,
    target: str | None, using: str | None, replace: bool, as_json: bool,
) -> None:
    """Draw a stratified random review queue NAME from the audit DIRECTORY.

    Each stratum h contributes min(N, N_h) items drawn at random with inclusion
    probability n_h / N_h, recorded for weighted estimates; positions are shuffled.
    With --budget B --target T, the strata are bands of a model score and the B labels
    are allocated to them by Neyman allocation (each band's mean score as its guessed
    share), to minimise the variance of T's estimate.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.errors import ReviewerError
    from reviewer.sampling import BudgetSpec, SampleSpec, draw_budget_plan, draw_plan

    audit = Audit.open(directory)
    audit.require_writable("sample")
    if (target or using) and budget is None:
        raise ReviewerError("--target and --using need --budget", "e.g. --budget 500")
    with progress_bar("drawing", unit="%") as progress:
        if budget is not None:
            if not target:
                raise ReviewerError("--budget needs --target",
                                    "e.g. --target prevalence --using clip_nsfw")
            info = draw_budget_plan(audit, BudgetSpec(name, budget, target, using, seed),
                                    replace=replace, progress=progress)
        else:
            spec = SampleSpec(
                name=name, strata=_split(strata), per_stratum=per_stratum, control=control,
                seed=seed, reviewers=_split(reviewers), overlap=overlap,
                overlap_share=overlap_share, bands=_bands(bands),
            )
            info = draw_plan(audit, spec, replace=replace, progress=progress)
    # The queue's pages are looked up by id when reviewed: key files make each page read
    # only its own rows (written once; later only what was ingested since).
    with progress_bar("indexing sample ids", unit="files") as progress:
        audit.store.sample_keys.build(progress)
    rows = audit.store.plans.strata(name).to_pylist()
    if as_json:
        click.echo(json.dumps({"plan": name, "items": info.items, "strata": rows}, indent=2))
        return
    echo(f"plan {name}: {info.items:,} items in {info.strata} strata (seed {seed})")
    echo(f"  {'stratum':<48} {'N_h':>11} {'n_h':>7} {'n_h/N_h':>9}")
    for row in rows:
        echo(
            f"  {row['stratum'][:48]:<48} {row['population']:>11,} {row['drawn']:>7,}"
            f" {row['inclusion_prob']:>9.4g}"
        )
    for reviewer in info.reviewers:
        count = len(audit.store.plans.queue_sample_ids(name, reviewer))
        echo(f"  reviewer {reviewer}: {count:,} items")
    for i, command in enumerate(_review_commands(directory, name, info.reviewers)):
        echo(f"{'next: ' if i == 0 else '      '}{command}")


def _review_commands(directory: Path, plan: str, reviewers: Sequence[str]) -> list[str]:
    """What to run next, as it can be pasted: a plan dealt to named reviewers needs
    ``--reviewer`` (the default name, the OS user's, has no items in it)."""
    base = f"reviewer review {shlex.quote(str(directory))} --queue {shlex.quote(plan)}"
    return [f"{base} --reviewer {shlex.quote(r)}" for r in reviewers] or [base]


@click.command("plan")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--margin", default=0.05, show_default=True, help="Half-width m of the interval.")
@click.option("--confidence", default=0.95, show_default=True, help="Confidence level c.")
@click.option(
    "--expected", default=0.5, show_default=True,
    help="Expected proportion p (0.5 is the safe, largest choice).",
)
@click.option("--strata", default="flag", show_default=True, help=STRATA_HELP)
@click.option("--bands", default="0.5,0.7,0.9", show_default=True, help="Cuts for score:FLAG.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plan_command(
    directory: Path, margin: float, confidence: float, expected: float, strata: str, bands: str,
    as_json: bool,
) -> None:
    """How many labels each stratum needs for a ±MARGIN interval at CONFIDENCE.

    The interval is the one `reviewer stats` prints (Korn–Graubard with the finite
    population correction): the smallest n whose printed interval is within ±MARGIN in
    at least 95% of draws when the stratum's share is EXPECTED. Cochran's
    n0 = z² p (1 − p) / m² is shown for reference.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.sampling import ASSURANCE, plan_sizes, sample_size, z_value

    audit = Audit.open(directory)
    keys = _split(strata)
    with progress_bar("counting strata", unit="%") as progress:
        needs = plan_sizes(
            audit, keys, margin, confidence, expected, flagged_only="flag" in keys,
            bands=_bands(bands), progress=progress,
        )
    n0, _ = sample_size(margin, confidence, expected)
    z = z_value(confidence)
    if as_json:
        click.echo(json.dumps({
            "margin": margin, "confidence": confidence, "expected": expected, "z": z, "n0": n0,
            "assurance": ASSURANCE,
            "strata": [
                {"stratum": s.stratum, "population": s.population, "needed": s.needed}
                for s in needs
            ],
        }, indent=2))
        return
    echo(f"n0 = z² p(1−p) / m² = {z:.4f}² × {expected:g} × {1 - expected:g} / {margin:g}²"
               f" = {n0:.2f}")
    echo(f"labels: the smallest n for which the interval `reviewer stats` prints"
         f" (Korn–Graubard, finite population) is within ±{margin:g} in ≥ {ASSURANCE:.0%}"
         f" of draws when p = {expected:g}")
    echo(f"  {'stratum':<58} {'N_h':>13} {'labels':>8}")
    for need in needs:
        echo(f"  {need.stratum[:58]:<58} {need.population:>13,} {need.needed:>8,}")
    if not needs:
        echo("  (no samples in any stratum: ingest first, or flag for --strata flag)")
    echo(f"  total {sum(n.needed for n in needs):,} labels")


COMMANDS: list[click.Command] = [sample_command, plan_command]
