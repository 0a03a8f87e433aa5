"""CLIP scoring: our batched scorer vs one image at a time (the 2023 audit's loop).

Same ViT-B-32 (random weights, real shape), same JPEG files on disk (LAION-like
sizes), same process. The baseline is the per-row loop: open and decode one
image, preprocess it, one ``encode_image`` and one ``encode_text`` forward pass
under ``torch.no_grad``, cosine similarity, and zero-shot NSFW against prompt
embeddings computed once (generous to the baseline). Ours: images decoded by a
thread pool ahead of the model, batched ``encode_image`` / ``encode_text`` under
``torch.inference_mode``. Prints images/s, the ratio, and the largest score
difference between the two (they must agree).

    .venv/bin/python benchmarks/bench_clip.py [--quick] [--images N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewer.flaggers.clip import ClipScorer, load_prompts  # noqa: E402
from reviewer.flaggers.models import load_clip  # noqa: E402


def write_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """JPEGs of LAION-like sizes (256-1024 px sides): smooth noise, so they compress."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        w, h = (int(v) for v in rng.integers(256, 1025, size=2))
        small = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR)
        path = folder / f"{i:05d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def open_rgb(path: Path):  # type: ignore[no-untyped-def]
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")


def baseline(scorer: ClipScorer, paths: list[Path], captions: list[str]) -> np.ndarray:
    """The per-row loop: decode, one image forward, one caption forward, per sample."""
    import torch

    bundle = scorer.bundle
    prompts = scorer.prompt_features
    scale = bundle.model.logit_scale.exp()
    out = np.empty((len(paths), 2))
    with torch.no_grad():
        for i, (path, caption) in enumerate(zip(paths, captions, strict=True)):
            pixels = bundle.preprocess(open_rgb(path)).unsqueeze(0)
            image = bundle.model.encode_image(pixels)
            image = image / image.norm(dim=-1, keepdim=True)
            text = bundle.model.encode_text(bundle.tokenizer([caption]))
            text = text / text.norm(dim=-1, keepdim=True)
            probs = (scale * image @ prompts.T).softmax(dim=-1)[0]
            out[i] = (float((image * text).sum()), float(probs[scorer.unsafe].sum()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="24 images (< 60 s)")
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--round", type=int, default=None, help="images per interleaved round")
    args = parser.parse_args()
    n = args.images or (24 if args.quick else 128)
    args.round = args.round or (12 if args.quick else 32)
    import torch

    bundle = load_clip("ViT-B-32", "random", "cpu")
    scorer = ClipScorer(bundle, load_prompts(), "cpu", args.batch, args.workers)
    captions = [f"a photo of item {i} on a table" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_images(Path(tmp), n)
        print(
            f"model: ViT-B-32, random weights; {n} JPEGs 256-1024 px; torch threads "
            f"{torch.get_num_threads()}; batch {args.batch}, {args.workers} decode threads"
        )
        baseline(scorer, paths[:2], captions[:2])
        scorer.score([lambda p=p: open_rgb(p) for p in paths[:2]], captions[:2])
        # Interleaved rounds: the machine is shared, so both sides see the same load.
        wall = {"base": 0.0, "ours": 0.0}
        cpu = {"base": 0.0, "ours": 0.0}
        refs, sims, nsfws = [], [], []
        for start in range(0, n, args.round):
            p_round, c_round = (
                paths[start : start + args.round],
                captions[start : start + args.round],
            )
            w, c = time.perf_counter(), time.process_time()
            refs.append(baseline(scorer, p_round, c_round))
            wall["base"] += time.perf_counter() - w
            cpu["base"] += time.process_time() - c
            w, c = time.perf_counter(), time.process_time()
            result = scorer.score([lambda p=p: open_rgb(p) for p in p_round], c_round)
            wall["ours"] += time.perf_counter() - w
            cpu["ours"] += time.process_time() - c
            sims.append(result.similarity)
            nsfws.append(result.p_nsfw)
    ref = np.vstack(refs)
    t_base, t_ours = wall["base"], wall["ours"]
    r_base, r_ours = n / t_base, n / t_ours
    print(f"one image at a time (2023 loop): {r_base:6.2f} images/s ({t_base:.1f} s)")
    print(
        f"ours, batched + decode threads:  {r_ours:6.2f} images/s ({t_ours:.1f} s)"
        f"  ratio {r_ours / r_base:.2f}x wall, {cpu['base'] / cpu['ours']:.2f}x CPU time"
    )
    ours_sim, ours_nsfw = np.concatenate(sims), np.concatenate(nsfws)
    sim = np.abs(ours_sim - ref[:, 0]).max()
    nsfw = np.abs(ours_nsfw - ref[:, 1]).max()
    print(f"agreement: max |similarity diff| {sim:.2e}, max |p_nsfw diff| {nsfw:.2e}")
    print(f"target >= 5x: {'met' if r_ours / r_base >= 5 else 'NOT met'} ({r_ours / r_base:.2f}x)")


if __name__ == "__main__":
    main()
