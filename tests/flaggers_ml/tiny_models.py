"""Tiny randomly initialised models, built offline, saved where the real loaders read them.

Shared by the tests (session fixtures) and the benchmarks (which build the same
shapes at full size). Nothing here is downloaded: the tokenizer is trained on the
fly with ``tokenizers``; the models are random.
"""

from __future__ import annotations

import json
from pathlib import Path

CORPUS_TEXT = (
    "a photo of the red car on a street at night with people and dogs running in the park "
    "beautiful woman man child smiling portrait landscape mountain sea beach sunset vintage "
    "poster logo text shirt print design wallpaper hate love angry stupid idiot you are all "
    "house kitchen interior modern wooden table chair flowers garden summer winter snow city"
)


def training_corpus(n: int = 400) -> list[str]:
    """A few hundred caption-like strings to train a byte-level BPE tokenizer on."""
    words = CORPUS_TEXT.split()
    return [
        " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(3 + i % 12)) for i in range(n)
    ]


def build_roberta(
    folder: Path,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    vocab_size: int | None = None,
    max_positions: int = 130,
    seed: int = 0,
    init_range: float = 0.2,
    classifier_scale: float = 3.0,
) -> Path:
    """Save a random multi-label RoBERTa (hateful/targeted/aggressive) and its tokenizer.

    ``vocab_size=None`` sizes the embedding to the trained tokenizer; pass 64001 for
    BERTweet-base's shape. The tests' defaults (wide init, scaled classifier) spread
    the random scores over [0, 1]; the benchmark uses transformers' own init
    (``init_range=0.02``, ``classifier_scale=1``), closer to a trained model's numerics.
    """
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        training_corpus(),
        vocab_size=1000,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    raw = folder / "bpe"
    raw.mkdir(exist_ok=True)
    bpe.save_model(str(raw))
    # transformers 5 takes ``vocab``/``merges``; 4.x took ``vocab_file``/``merges_file``.
    try:
        tokenizer = RobertaTokenizerFast(
            vocab=str(raw / "vocab.json"), merges=str(raw / "merges.txt")
        )
    except TypeError:
        tokenizer = RobertaTokenizerFast(
            vocab_file=str(raw / "vocab.json"), merges_file=str(raw / "merges.txt")
        )
    tokenizer.save_pretrained(folder)
    config = RobertaConfig(
        vocab_size=vocab_size or len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 4,
        max_position_embeddings=max_positions,
        num_labels=3,
        problem_type="multi_label_classification",
        id2label={0: "hateful", 1: "targeted", 2: "aggressive"},
        label2id={"hateful": 0, "targeted": 1, "aggressive": 2},
        initializer_range=init_range,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = RobertaForSequenceClassification(config)
    # Random init leaves the classifier near zero; widen it so scores spread over [0, 1].
    with torch.no_grad():
        model.classifier.out_proj.weight.mul_(classifier_scale)
    model.save_pretrained(folder)
    return folder


TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def register_tiny_clip(folder: Path, name: str = "reviewer-tiny-clip") -> str:
    """Write a tiny open_clip architecture config and register it via ``add_model_config``."""
    import open_clip

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(TINY_CLIP), encoding="utf-8")
    open_clip.add_model_config(path)
    return name


def save_clip_checkpoint(name: str, path: Path, seed: int = 0) -> Path:
    """Random weights for ``name`` saved as a local checkpoint (``pretrained=path``)."""
    import open_clip
    import torch

    torch.manual_seed(seed)
    model, _, _ = open_clip.create_model_and_transforms(name, pretrained=None)
    torch.save(model.state_dict(), path)
    return path
