"""``reviewer index`` (a vector index over the embeddings) and ``reviewer probe`` (queues).

A probe asks the dataset a question the way the 2021 LAION-400M audit did — a
word, a sample, a picture — and queues the nearest samples for review.
"""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.output import echo
from reviewer.errors import ReviewerError

_MODEL_HELP = "Embedding set to use as ARCH/PRETRAINED, when the audit holds several."


@click.command("index")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["flat", "ivfpq", "hnsw"]),
    default=None,
    help="flat: exact; ivfpq: faiss IVF-PQ; hnsw: usearch HNSW."
    " Default: flat below 200,000 vectors, else ivfpq.",
)
@click.option("--embedding-model", default=None, help=_MODEL_HELP)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Build threads (default: every core; fewer on a machine shared with other jobs).",
)
def index_command(
    directory: Path, kind: str | None, embedding_model: str | None, threads: int | None
) -> None:
    """Build the vector index over audit DIRECTORY's image embeddings and print its recall.

    The index is built beside the embeddings and replaces the previous one only when
    complete: a failed build leaves the previous index usable.
    """
    from reviewer.audit import Audit
    from reviewer.cli.progress import progress_bar
    from reviewer.embeddings.index import build_index
    from reviewer.embeddings.sets import EmbeddingsFolder, ModelId

    audit = Audit.open(directory)
    audit.require_writable("index")
    model = ModelId.parse(embedding_model) if embedding_model else None
    vectors = EmbeddingsFolder(audit.paths.embeddings).choose(model, "image")
    with progress_bar("indexing", unit="vectors") as progress:
        info = build_index(vectors, kind, progress, threads=threads)
    echo(
        f"indexed {info.rows:,} {info.dim}-d vectors of {info.model} as {info.kind}"
        f" ({info.params.get('engine', '')}) in {info.build_seconds:.1f} s"
    )
    if info.recall_at_k is None:
        click.echo("exact search: recall 1.0 by construction")
    else:
        click.echo(f"recall@{info.recall_k} against exact search: {info.recall_at_k:.3f}")


@click.command("probe")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("text", required=False)
@click.option("--like", "like", default=None, help="Probe with a sample's own embedding.")
@click.option(
    "--like-image",
    type=click.Path(path_type=Path),
    default=None,
    help="Probe with a local picture (encoded here, never stored; items default to privacy).",
)
@click.option(
    "--probes",
    "probes_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A file of probe texts, one per line; each becomes queue NAME:text.",
)
@click.option("--top", "top_k", type=int, default=100, show_default=True, help="Items to queue.")
@click.option("--name", default=None, help="Queue name (reviewers open it with --queue NAME).")
@click.option("--category", default=None, help="Category suggested for the items.")
@click.option("--replace", is_flag=True, help="Run a probe of the same name again.")
@click.option("--embedding-model", default=None, help=_MODEL_HELP)
@click.option("--model", default=None, help="open_clip architecture (default: the embeddings').")
@click.option(
    "--pretrained", default=None, help="Tag or local checkpoint (default: the embeddings')."
)
@click.option(
    "--model-config",
    type=click.Path(exists=True),
    default=None,
    help="open_clip config JSON for a custom architecture.",
)
@click.option("--device", default="auto", show_default=True, help="cpu | cuda | cuda:N | auto.")
def probe_command(
    directory: Path,
    text: str | None,
    like: str | None,
    like_image: Path | None,
    probes_file: Path | None,
    top_k: int,
    name: str | None,
    category: str | None,
    replace: bool,
    embedding_model: str | None,
    model: str | None,
    pretrained: str | None,
    model_config: str | None,
    device: str,
) -> None:
    """Queue the TOP samples nearest to TEXT (or --like, --like-image, --probes) for review.

    The queue keeps similarity order and shows "probe 'TEXT': similarity 0.31" as each
    item's reason; review it with `reviewer review DIR --queue NAME`.
    """
    from reviewer.audit import Audit
    from reviewer.embeddings.probe import build_requests, open_prober

    requests = build_requests(text, like, like_image, probes_file, top_k, name, category)
    audit = Audit.open(directory)
    audit.require_writable("probe")
    if category is not None and category not in audit.settings.review.categories:
        raise ReviewerError(
            f"--category {category}: not a category of this audit",
            f"use one of {', '.join(audit.settings.review.categories)}",
        )
    needs_encoder = any(r.kind != "sample" for r in requests)
    prober = open_prober(
        audit, needs_encoder, embedding_model, model, pretrained, model_config, device
    )
    for request in requests:
        result = prober.run(request, replace=replace)
        top = f", top similarity {result.similarities[0]:.2f}" if result.similarities else ""
        echo(
            f"probe '{result.info.name}': {len(result.sample_ids):,} items queued"
            f" ({result.index_kind} search over {prober.vectors.rows:,} vectors{top})"
        )
    first = requests[0].name
    echo(f"review with: reviewer review {directory} --queue {first}")


COMMANDS = [index_command, probe_command]
