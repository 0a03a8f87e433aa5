"""Finding ML models offline and putting them on a device, failing fast and clearly.

Audit machines often have no route to a model hub. Left alone, transformers and
open_clip wait up to 30 s for the network and then raise a stack of chained
errors. Here every lookup is local first: a missing model becomes a
:class:`~reviewer.errors.ModelUnavailableError` at once, telling the user how to
provide the weights (a pre-downloaded Hugging Face cache, ``--model /local/dir``,
``--pretrained /path/to/checkpoint.pt``). Torch, transformers, pysentimiento and
open_clip are imported inside the functions so the TUI never pays for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.errors import ModelUnavailableError, ReviewerError

HATE_HUB_MODEL = "pysentimiento/bertweet-hate-speech"
"""pysentimiento's English hate-speech model (BERTweet, multi-label)."""

HATE_PREPROCESSING = {"user_token": "@USER", "url_token": "HTTPURL"}
"""BERTweet's tokens for handles and links; pysentimiento drops them when given a model name."""

RANDOM_WEIGHTS = "random"
"""``--pretrained random``: open_clip's random initialisation, for tests and benchmarks only."""

_HOW_TO = (
    "no model hub is reachable from here: copy a Hugging Face cache (HF_HOME) that holds it, "
    "or pass --model /local/dir (a folder saved with save_pretrained)"
)


def resolve_device(device: str) -> str:
    """Turn ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` into a torch device string.

    Raises:
        ReviewerError: a GPU was requested but none is visible, or the name is unknown.
    """
    import torch

    name = device.strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ReviewerError(
                f"--device {device}: no CUDA GPU is visible to torch",
                "use --device cpu or auto, or check CUDA_VISIBLE_DEVICES and the torch build",
            )
        index = int(name.split(":", 1)[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ReviewerError(
                f"--device {device}: only {torch.cuda.device_count()} GPU(s) visible",
                "pick an index below that",
            )
        return name
    raise ReviewerError(f"--device {device}: unknown device", "use cpu, cuda, cuda:N or auto")


def _looks_like_path(name: str) -> bool:
    """Hub ids are ``org/name``; anything else with a slash, or rooted, is a path."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1


def _hub_cached(repo_id: str, filename: str) -> bool:
    """Whether ``filename`` of ``repo_id`` is in the local Hugging Face cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, filename)
    except Exception:  # an invalid repo id is as good as missing
        return False
    return isinstance(found, str)


def hate_model_source(model: str | None) -> str:
    """Where the hate model comes from: a local folder or a cached hub name.

    Raises:
        ModelUnavailableError: at once, when neither a folder nor a cached copy exists.
    """
    name = model or HATE_HUB_MODEL
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelUnavailableError(
                f"--model {name}: folder has no config.json",
                "pass a folder written by save_pretrained (model and tokenizer)",
            )
        return str(path.resolve())
    if path.exists() or _looks_like_path(name):
        raise ModelUnavailableError(f"--model {name}: no such model folder", _HOW_TO)
    if not _hub_cached(name, "config.json"):
        raise ModelUnavailableError(
            f"hate model {name}: not in the local Hugging Face cache", _HOW_TO
        )
    return name


def load_hate_analyzer(model: str | None) -> Any:
    """Load pysentimiento's hate-speech analyzer through its own ``create_analyzer``.

    With ``model_name`` pysentimiento forgets BERTweet's preprocessing arguments, so
    they are passed explicitly: the model must see captions as it saw tweets in training.
    """
    source = hate_model_source(model)
    from pysentimiento import create_analyzer

    try:
        return create_analyzer(
            task="hate_speech",
            lang="en",
            model_name=source,
            preprocessing_args=dict(HATE_PREPROCESSING),
        )
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(
            f"hate model {source}: cannot be loaded ({exc})", _HOW_TO
        ) from exc


def check_int8_device(device: str) -> None:
    """Refuse int8 off the CPU: ``torch.ao`` dynamic quantisation has CPU kernels only.

    Raises:
        ReviewerError: ``device`` is not ``cpu``.
    """
    if device != "cpu":
        raise ReviewerError(
            "--quantize: int8 quantisation runs on CPU only", "drop --quantize or use --device cpu"
        )


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantisation of every ``Linear`` layer (CPU only, ~1.8x faster here)."""
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    # torch leaves quantize_dynamic unannotated; this gives the call a type.
    quantize: Callable[..., Any] = quantize_dynamic
    with warnings.catch_warnings():  # torch.ao eager quantisation is deprecated, still works
        warnings.simplefilter("ignore")
        return quantize(model, {torch.nn.Linear}, dtype=torch.qint8)


@dataclass
class ClipBundle:
    """An open_clip model ready for inference, with its transform and tokenizer."""

    model: Any
    preprocess: Any
    tokenizer: Any
    model_id: str


def add_clip_config(path: str | Path) -> None:
    """Register a custom open_clip architecture (a JSON file or a folder of them)."""
    import open_clip

    if not Path(path).exists():
        raise ReviewerError(f"--model-config {path}: no such file or folder")
    open_clip.add_model_config(path)


def clip_weights(model_name: str, pretrained: str | None) -> str | None:
    """Check ``--pretrained`` locally and return what open_clip should load.

    Returns:
        A local checkpoint path, a cached pretrained tag, or ``None`` for random weights
        (only when ``pretrained`` is ``"random"``).

    Raises:
        ModelUnavailableError: no weights given, or the tag is not cached here.
    """
    import open_clip

    if model_name not in open_clip.list_models():
        raise ReviewerError(
            f"--model {model_name}: unknown open_clip architecture",
            "see open_clip.list_models(), or register a config with --model-config",
        )
    how = (
        "pass --pretrained /path/to/checkpoint.pt, or pre-download the tag into the "
        "Hugging Face cache (HF_HOME) or ~/.cache/clip"
    )
    if not pretrained:
        raise ModelUnavailableError(f"clip model {model_name}: no --pretrained weights given", how)
    if pretrained == RANDOM_WEIGHTS:
        return None
    path = Path(pretrained).expanduser()
    if path.is_file():
        return str(path.resolve())
    cfg = open_clip.get_pretrained_cfg(model_name, pretrained)
    if not cfg:
        if "/" in pretrained or path.suffix:
            raise ModelUnavailableError(f"--pretrained {pretrained}: no such checkpoint file", how)
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model_name)) or "none"
        raise ReviewerError(
            f"--pretrained {pretrained}: not a tag of {model_name}", f"known tags: {tags}"
        )
    if _clip_tag_cached(cfg):
        return pretrained
    raise ModelUnavailableError(f"clip weights {model_name}/{pretrained}: not cached here", how)


def _clip_tag_cached(cfg: dict[str, Any]) -> bool:
    hub = cfg.get("hf_hub", "")
    if hub:
        repo_id, filename = os.path.split(hub)
        names = [filename] if filename else []
        names += ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        return any(_hub_cached(repo_id, n) for n in names)
    url = cfg.get("url", "")
    return bool(url) and (Path("~/.cache/clip").expanduser() / os.path.basename(url)).exists()


def load_clip(model_name: str, pretrained: str | None, device: str) -> ClipBundle:
    """Build an open_clip model through ``create_model_and_transforms`` in eval mode."""
    weights = clip_weights(model_name, pretrained)
    import open_clip

    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=weights, device=device
        )
    except (OSError, RuntimeError, KeyError) as exc:
        raise ModelUnavailableError(
            f"clip weights {model_name}/{pretrained}: cannot be loaded ({exc})",
            "check that the checkpoint matches the architecture",
        ) from exc
    model.eval()
    tokenizer = open_clip.get_tokenizer(model_name)
    return ClipBundle(model, preprocess, tokenizer, f"open_clip:{model_name}/{pretrained}")
