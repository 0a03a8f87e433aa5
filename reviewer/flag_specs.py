"""Every flagger declared once (:data:`SPECS`), with the ``[flags]`` settings it reads.

A :class:`FlaggerSpec` says everything the rest of reviewer needs to know about a
flagger without importing it (its module may pull in torch): the class that scores,
the score columns it writes, the flags derived from them, whether it needs images and
the ``[flags]`` settings (:class:`FlagSetting`: name, type, default, :class:`Rule`,
help) that its flag rule or the flagger reads. The registry, the flag-name maps, the
CLI's checks and the ``[flags]`` section of ``reviewer.toml`` (its fields, checks and
default text, built in :mod:`reviewer.config`) all come from here. Only the SQL that
turns scores into flags is elsewhere, in :data:`reviewer.store.flag_rules.RULES` (all
SQL lives in ``store``). This module sits below ``config`` so config can read it.

Code reads a setting through its declaration, typed: ``settings.flags[HATE_THRESHOLD]``
is a ``float`` to mypy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pyarrow as pa

from reviewer.setting_rule import Rule

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class FlagSetting(Generic[T]):
    """One ``[flags]`` setting of ``reviewer.toml``: changing it never re-scores.

    Attributes:
        name: Key under ``[flags]``.
        kind: Its type (``float``, ``str``, ``list[float]``); TOML values are checked against it.
        default: The value when the line is missing (copied, never shared, for a list).
        rule: What values it accepts (range, choices); ``None`` accepts any of ``kind``.
        help: What it does and why the default, for readers of the code and docs.
        comment: The short comment after it in the default ``reviewer.toml``.
    """

    name: str
    kind: type[T]
    default: T
    rule: Rule | None = None
    help: str = ""
    comment: str = ""


KEYWORD_MODE = FlagSetting(
    "keyword_mode",
    str,
    "substring",
    Rule(choices=("substring", "word")),
    help="``substring`` (the 2021 audit's rule, for replication) or ``word`` (word boundaries).",
    comment="substring (2021 audit rule) | word",
)
KEYWORD_LIST = FlagSetting(
    "keyword_list",
    str,
    "",
    help="Path of a keyword file (relative to the audit folder); empty means the 2021"
    " audit's list shipped in ``assets/``.",
    comment="empty = assets/keywords/laion400m_2021.txt",
)
PUNSAFE_CUTS = FlagSetting(
    "punsafe_cuts",
    list[float],
    [0.5, 0.9],
    Rule(low=0, high=1, min_items=1, increasing=True),
    help="punsafe below the first cut bins as UNLIKELY, below the second as UNSURE, else NSFW;"
    " the ``punsafe`` flag fires at the first cut.",
)
HATE_THRESHOLD = FlagSetting(
    "hate_threshold",
    float,
    0.5,
    Rule(low=0, high=1),
    help="P_hateful / P_targeted / P_aggressive above this flag a caption (hate-scaling"
    " audit: 0.5; strictly above, as pysentimiento labels p > 0.5).",
    comment="hate flags and HCR: P > this (pysentimiento labels p > 0.5)",
)
CLIP_NSFW_THRESHOLD = FlagSetting(
    "clip_nsfw_threshold",
    float,
    0.5,
    Rule(low=0, high=1),
    help="Zero-shot CLIP NSFW probability at or above which an image is flagged.",
)
CLIP_SIMILARITY_THRESHOLD = FlagSetting(
    "clip_similarity_threshold",
    float,
    0.28,
    Rule(low=-1, high=1),
    help="Image-caption cosine similarity below which a pair is flagged as mismatched"
    " (LAION used 0.28-0.3).",
)


@dataclass(frozen=True)
class FlaggerSpec:
    """One flagger, declared without importing it.

    Attributes:
        name: Folder under ``scores/``, registry key and CLI name (dashes accepted).
        flagger: ``module:Class`` of the scorer, imported only when a run needs it.
        score_columns: Score column -> Arrow type, written after ``sample_id``.
        flags: Flags derived from the scores, in the order its SQL rule writes them.
        settings: The ``[flags]`` settings its rule or the flagger reads; they become
            the ``[flags]`` section, in spec order.
        needs_images: Scores images: refused on an audit without any.
    """

    name: str
    flagger: str
    score_columns: dict[str, pa.DataType]
    flags: tuple[str, ...]
    settings: tuple[FlagSetting[Any], ...] = ()
    needs_images: bool = False


SPECS: dict[str, FlaggerSpec] = {
    spec.name: spec
    for spec in (
        FlaggerSpec(
            name="keyword",
            flagger="reviewer.flaggers.keyword:KeywordFlagger",
            score_columns={
                "caption_terms": pa.list_(pa.string()),
                "url_terms": pa.list_(pa.string()),
            },
            flags=("keyword",),
            settings=(KEYWORD_MODE, KEYWORD_LIST),
        ),
        FlaggerSpec(
            name="nsfw_field",
            flagger="reviewer.flaggers.nsfw_field:NsfwFieldFlagger",
            score_columns={"nsfw_tag": pa.string(), "punsafe": pa.float64()},
            flags=("nsfw_field", "nsfw_field_unsure", "punsafe"),
            settings=(PUNSAFE_CUTS,),
        ),
        FlaggerSpec(
            name="hate",
            flagger="reviewer.flaggers.hate:HateFlagger",
            score_columns={
                "p_hateful": pa.float64(),
                "p_targeted": pa.float64(),
                "p_aggressive": pa.float64(),
            },
            flags=("hate_hateful", "hate_targeted", "hate_aggressive", "hate_any"),
            settings=(HATE_THRESHOLD,),
        ),
        FlaggerSpec(
            name="clip",
            flagger="reviewer.flaggers.clip:ClipFlagger",
            score_columns={"p_nsfw": pa.float64(), "similarity": pa.float64()},
            flags=("clip_nsfw", "clip_mismatch"),
            settings=(CLIP_NSFW_THRESHOLD, CLIP_SIMILARITY_THRESHOLD),
            needs_images=True,
        ),
        FlaggerSpec(
            name="image_hash",
            flagger="reviewer.flaggers.image_hash:ImageHashFlagger",
            score_columns={
                "md5": pa.string(),
                "sha1": pa.string(),
                "sha256": pa.string(),
                "pdq": pa.string(),
                "pdq_quality": pa.int32(),
            },
            flags=(),  # read by `reviewer match` and `reviewer groups`
            needs_images=True,
        ),
    )
}
"""Every known flagger, in the order ``reviewer flag --flagger all`` runs them."""

SCORE_COLUMNS: dict[str, dict[str, pa.DataType]] = {
    name: spec.score_columns for name, spec in SPECS.items()
}
"""Score columns by flagger name, as the flag rules expect them."""

FLAG_NAMES: dict[str, tuple[str, ...]] = {name: spec.flags for name, spec in SPECS.items()}
"""Flags derived from each flagger's scores."""


def flag_settings(specs: dict[str, FlaggerSpec]) -> tuple[FlagSetting[Any], ...]:
    """Every ``[flags]`` setting the specs declare, in spec order; a name declared twice
    (two flaggers reading one threshold) counts once if it is the same declaration."""
    seen: dict[str, FlagSetting[Any]] = {}
    for spec in specs.values():
        for item in spec.settings:
            if seen.setdefault(item.name, item) is not item:
                raise ValueError(f"[flags] {item.name} is declared twice, differently")
    return tuple(seen.values())
