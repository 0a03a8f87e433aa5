"""``reviewer flag``: score an audit's samples with one flagger, or all that can run here.

Scores go to ``scores/<flagger>/<run_id>/`` (never into the locked database), so
reviewers keep working during a long job; an interrupted job resumes when the
same command is run again. Flags are derived from the scores with the
thresholds in ``reviewer.toml`` whenever they are read.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

import click

from reviewer.errors import ModelUnavailableError, ReviewerError
from reviewer.flag_specs import CLIP_NSFW_THRESHOLD, HATE_THRESHOLD, SPECS

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.config import Settings


@click.command("flag")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--flagger",
    "flagger_name",
    required=True,
    help="keyword | nsfw-field | hate | clip | image-hash | all",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Score in this process, or on a Ray cluster.",
)
@click.option("--device", default=None, help="cpu | cuda | cuda:N | auto (hate, clip).")
@click.option(
    "--model", default=None, help="Model: hub name or local folder (hate); architecture (clip)."
)
@click.option("--pretrained", default=None, help="open_clip pretrained tag or local checkpoint.")
@click.option(
    "--model-config",
    type=click.Path(exists=True),
    default=None,
    help="open_clip model config JSON file or folder, for a custom architecture (clip).",
)
@click.option(
    "--prompts",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Zero-shot NSFW prompt set (clip); default: assets/prompts/nsfw_default.toml.",
)
@click.option("--batch-size", type=int, default=None, help="Rows per scored part.")
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Threshold for the summary printed here (hate / clip NSFW); "
    "set it in reviewer.toml [flags] to keep it.",
)
@click.option(
    "--keywords",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keyword list file (keyword); default: reviewer.toml, else the 2021 list.",
)
@click.option(
    "--mode",
    type=click.Choice(["substring", "word"]),
    default=None,
    help="Keyword match mode; default from reviewer.toml (substring).",
)
@click.option(
    "--quantize", is_flag=True, default=None, help="Dynamic int8 quantisation on CPU (hate, clip)."
)
@click.option(
    "--fast-decode",
    is_flag=True,
    default=None,
    help="Decode JPEGs at a reduced scale that still covers the model input (clip).",
)
@click.option(
    "--store-embeddings",
    is_flag=True,
    default=None,
    help="Keep the image embeddings in the audit for `reviewer index` / `probe` (clip, local).",
)
@click.option("--dataset", "datasets", multiple=True, help="Score only this dataset (repeatable).")
@click.option(
    "--sample",
    type=int,
    default=None,
    help="Score a seeded random sample of N samples (e.g. hate on a laptop).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--no-resume", is_flag=True, help="Start a new run even if one was interrupted.")
def flag_command(
    directory: str,
    flagger_name: str,
    engine: str,
    batch_size: int | None,
    threshold: float | None,
    no_resume: bool,
    datasets: tuple[str, ...],
    sample: int | None,
    seed: int,
    **options: Any,
) -> None:
    """Run automated flaggers over the samples of the audit DIRECTORY."""
    from reviewer.audit import Audit
    from reviewer.flaggers.registry import FLAGGERS, canonical_name

    if options.get("store_embeddings") and engine == "ray":
        raise ReviewerError(
            "--store-embeddings: only with --engine local",
            "Ray workers would append to one embedding set at once; run clip locally",
        )
    audit = Audit.open(directory)
    try:
        audit.require_writable("flag")
        if flagger_name.strip().lower() == "all":
            names = list(FLAGGERS)
        else:
            names = [canonical_name(flagger_name)]
        settings = _summary_settings(audit.settings, threshold)
        selection: dict[str, Any] = {
            "datasets": list(datasets) or None,
            "sample": sample,
            "seed": seed,
        }
        failed = 0
        for name in names:
            try:
                _run_one(
                    audit,
                    name,
                    settings,
                    engine=engine,
                    batch_size=batch_size,
                    resume=not no_resume,
                    options=options,
                    selection=selection,
                )
            except ReviewerError as exc:
                if len(names) == 1:
                    raise
                if _is_unavailable(exc):
                    click.echo(f"{name}: skipped — {exc.one_line()}", err=True)
                else:
                    failed += 1
                    click.echo(f"error: {name}: {exc.one_line()}", err=True)
        if failed:
            raise ReviewerError(f"{failed} flagger(s) failed", "see the messages above")
    finally:
        audit.close()


def _is_unavailable(exc: ReviewerError) -> bool:
    """Errors that mean "cannot run here" rather than "went wrong"."""
    return isinstance(exc, ModelUnavailableError) or "not available" in exc.message


def _summary_settings(settings: Settings, threshold: float | None) -> Settings:
    """Settings for the summary: ``--threshold`` overrides hate and clip NSFW thresholds."""
    if threshold is None:
        return settings
    if not 0 <= threshold <= 1:
        raise ReviewerError(f"--threshold {threshold}: must be between 0 and 1")
    adjusted = copy.deepcopy(settings)
    adjusted.flags[HATE_THRESHOLD] = threshold
    adjusted.flags[CLIP_NSFW_THRESHOLD] = threshold
    return adjusted


def _run_one(
    audit: Audit,
    name: str,
    settings: Settings,
    *,
    engine: str,
    batch_size: int | None,
    resume: bool,
    options: dict[str, Any],
    selection: dict[str, Any],
) -> None:
    """Run one flagger with a progress bar and print what it found."""
    from reviewer.cli.progress import progress_bar
    from reviewer.flaggers.runner import build_flagger, run_flagger

    if SPECS[name].needs_images and audit.store.samples.summary().with_images == 0:
        raise ReviewerError(
            f"{name}: not available: no sample has an image", "ingest with --images PATH"
        )
    flagger = build_flagger(audit, name, **options)
    started = time.monotonic()
    with progress_bar(f"flag {name}", unit="samples") as progress:
        info = run_flagger(
            audit,
            flagger,
            progress=progress,
            batch_size=batch_size,
            engine=engine,
            resume=resume,
            **selection,
        )
    seconds = time.monotonic() - started
    counts = audit.store.flags.counts(settings, flagger=name).to_pylist()
    found = ", ".join(f"{c['flag']} {c['flagged']:,}" for c in counts)
    click.echo(
        f"{name}: {info.scored_rows:,} of {info.todo_rows:,} samples scored in {seconds:.1f} s "
        f"(run {info.run_id}); flagged: {found or 'none'}"
    )
    if info.unscored_rows:
        reasons = _unscored_reasons(info.extra)
        click.echo(
            f"{name}: {info.unscored_rows:,} samples could not be scored{reasons}", err=True
        )
    no_pdq = info.extra.get("pdq_unavailable")
    if isinstance(no_pdq, dict) and no_pdq:
        click.echo(
            f"{name}: {sum(no_pdq.values()):,} images hashed by their bytes only, no PDQ"
            f"{_unscored_reasons({'unscored_images': no_pdq})}",
            err=True,
        )


def _unscored_reasons(extra: dict[str, Any]) -> str:
    """`` (unreachable 1, corrupt 1)`` from the run's saved provenance, when it counts reasons."""
    counts = extra.get("unscored_images")
    if not isinstance(counts, dict) or not counts:
        return ""
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return " (" + ", ".join(f"{reason} {count:,}" for reason, count in ordered) + ")"


COMMANDS: list[click.Command] = [flag_command]
