"""Project the cost of a full LAION-2B-en flagging pass on one GPU from measured throughput.

Runs, on whatever device is given, the two model shapes the flaggers use, with random
weights (no hub needed) and real shapes:

* hate: a BERTweet-base-shaped RoBERTa (64,001-token vocabulary, 12 layers, 768 wide,
  3 labels) — length-sorted batches vs one caption at a time (the audits' loop);
* clip: open_clip ViT-B-32 ``encode_image`` — batches vs one image at a time;
* image decode: JPEG decode + resize to 224 per CPU core (the input pipeline's bound).

It prints each rate, the batched/unbatched ratio, and a projection (not a measurement) of
hours for LAION-2B-en's 2,322,161,808 pairs. Usage::

    python benchmarks/gpu_projection.py --device cuda --dtype float16
    python benchmarks/gpu_projection.py --device cpu --quick
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

LAION_2B_EN_ROWS = 2_322_161_808
WORDS = (  # noqa: SIM905 - one string reads better than 40 quoted words
    "photo of a red car on the street vintage poster sale free shipping women men kids "
    "shoes dress wedding cake recipe chocolate house garden beach sunset dog cat logo "
    "vector illustration stock image background texture 2019 new york london paris"
).split()


def captions(n: int, seed: int = 0) -> list[str]:
    """Captions with a LAION-like spread of lengths (mostly short, a long tail)."""
    rng = random.Random(seed)
    lengths = [max(2, int(rng.lognormvariate(2.3, 0.6))) for _ in range(n)]
    return [" ".join(rng.choices(WORDS, k=k)) for k in lengths]


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_text(device: str, dtype: str, n: int, batch: int) -> tuple[float, float]:
    """Captions/s batched (length-sorted) and one at a time."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(
        vocab_size=64001, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=130, num_labels=3,
        problem_type="multi_label_classification",
    )
    model = RobertaForSequenceClassification(config).eval().to(device)
    if dtype != "float32":
        model = model.to(getattr(torch, dtype))
    vocab = {w: i + 5 for i, w in enumerate(sorted(set(WORDS)))} | {"[UNK]": 3}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = captions(n)
    ids = [tok.encode(t).ids[:126] for t in texts]

    import numpy as np

    def run(group: list[list[int]]) -> None:
        width = max(len(x) for x in group) + 2
        arr = np.ones((len(group), width), dtype=np.int64)
        mask = np.zeros_like(arr)
        for row, x in enumerate(group):
            arr[row, : len(x) + 2] = [0, *x, 2]
            mask[row, : len(x) + 2] = 1
        with torch.inference_mode():
            logits = model(
                input_ids=torch.from_numpy(arr).to(device),
                attention_mask=torch.from_numpy(mask).to(device),
            ).logits
            torch.sigmoid(logits).float().cpu()

    order = sorted(range(n), key=lambda i: len(ids[i]))
    for s in range(0, n, batch):  # warm-up over every shape the timed pass will see
        run([ids[i] for i in order[s : s + batch]])
    sync(device)
    t0 = time.perf_counter()
    for s in range(0, n, batch):
        run([ids[i] for i in order[s : s + batch]])
    sync(device)
    batched = n / (time.perf_counter() - t0)
    single_n = min(n, 200)
    t0 = time.perf_counter()
    for i in range(single_n):
        run([ids[i]])
    sync(device)
    single = single_n / (time.perf_counter() - t0)
    return batched, single


def bench_clip(device: str, dtype: str, n: int, batch: int) -> tuple[float, float]:
    """Images/s through ViT-B-32 encode_image, batched and one at a time."""
    import open_clip
    import torch

    model, _, _ = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    model = model.eval().to(device)
    if dtype != "float32":
        model = model.to(getattr(torch, dtype))
    tdtype = next(model.parameters()).dtype
    images = torch.randn(batch, 3, 224, 224, dtype=tdtype, device=device)
    with torch.inference_mode():
        model.encode_image(images)
        sync(device)
        t0 = time.perf_counter()
        done = 0
        while done < n:
            model.encode_image(images)
            done += batch
        sync(device)
        batched = done / (time.perf_counter() - t0)
        single_n = min(n, 100)
        t0 = time.perf_counter()
        for i in range(single_n):
            model.encode_image(images[i % batch : i % batch + 1])
        sync(device)
        single = single_n / (time.perf_counter() - t0)
    return batched, single


def _decode_many(args: tuple[bytes, int]) -> int:
    from PIL import Image

    data, count = args
    for _ in range(count):
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (224, 224))
            im.convert("RGB").resize((224, 224))
    return count


def bench_decode(workers: int, count: int) -> float:
    """JPEG (LAION-typical 512 px) decodes+resizes per second with ``workers`` processes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((512, 384), 64).convert("RGB").save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    per = max(1, count // workers)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = sum(pool.map(_decode_many, [(data, per)] * workers))
    return done / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_text, n_img = (256, 64) if args.quick else (20_000, 4_096)
    text_batch, img_batch = (64, 32) if args.device == "cpu" else (512, 256)
    workers = os.cpu_count() or 1
    print(f"device={args.device} dtype={args.dtype} cpu_cores={workers}")
    tb, ts = bench_text(args.device, args.dtype, n_text, text_batch)
    print(f"hate  (BERTweet-base shape): batched {tb:,.0f} captions/s, one-at-a-time {ts:,.0f}/s,"
          f" ratio {tb / ts:.1f}x")
    cb, cs = bench_clip(args.device, args.dtype, n_img, img_batch)
    print(f"clip  (ViT-B-32 encode_image): batched {cb:,.0f} images/s, one-at-a-time {cs:,.0f}/s,"
          f" ratio {cb / cs:.1f}x")
    dec = bench_decode(workers, 400 if args.quick else 4000)
    print(f"decode (512px JPEG -> 224, {workers} processes): {dec:,.0f} images/s")
    img_rate = min(cb, dec)
    print("PROJECTION (not a measurement) for LAION-2B-en, 2,322,161,808 pairs, one device:")
    print(f"  hate on all captions: {LAION_2B_EN_ROWS / tb / 3600:,.0f} h")
    print(f"  clip on all images (bound by min(model, decode) = {img_rate:,.0f}/s): "
          f"{LAION_2B_EN_ROWS / img_rate / 3600:,.0f} h, excluding download of ~240 TB of images")


if __name__ == "__main__":
    main()
