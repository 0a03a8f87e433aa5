"""Every flagger declared once (:data:`SPECS`), and the SQL that turns its scores into flags.

A :class:`FlaggerSpec` says everything the rest of reviewer needs to know about a
flagger without importing it (its module may pull in torch): the class that
scores, the score columns it writes, the flags derived from them and the SQL
rule that derives them, the ``[flags]`` settings that rule reads, and whether it
needs images. The registry (:mod:`reviewer.flaggers.registry`), the flag-name
maps, the rule lookup of the flags view and the CLI's checks all read
:data:`SPECS`. It lives in ``store`` because the rules are SQL, and ``store`` is
below ``flaggers``: a new flagger is its module plus one spec (and rule) here.

Every flag row has the columns ``sample_id, flagger, flag, score, flagged, reason,
run_id``. ``reason`` is the specific text a reviewer sees (``keyword: "porn" in
URL``, ``NSFW field: UNSURE``, ``punsafe 0.74 (UNSURE band)``, ``P_hateful 0.82``,
``CLIP NSFW 0.91``) and is NULL on rows that are not flagged. Thresholds are
applied here, at read time, from ``reviewer.toml``: changing one never re-scores.
Comparisons are "at or above" a threshold, except the hate flags, which fire
strictly *above* it (pysentimiento's ``p > 0.5``, as the HCR counts), and the CLIP
mismatch flag, which fires *below* the similarity threshold. NULL scores never flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from reviewer.config import FlagsSection
from reviewer.errors import ReviewerError
from reviewer.store.sql import lit, num

FLAG_COLUMNS = ("sample_id", "flagger", "flag", "score", "flagged", "reason", "run_id")

EMPTY_FLAGS_SQL = (
    "SELECT NULL::VARCHAR AS sample_id, NULL::VARCHAR AS flagger, NULL::VARCHAR AS flag, "
    "NULL::DOUBLE AS score, NULL::BOOLEAN AS flagged, NULL::VARCHAR AS reason, "
    "NULL::VARCHAR AS run_id WHERE false"
)


def _row(
    source: str, flagger: str, flag: str, score: str, flagged: str, reason: str, run_id: str
) -> str:
    """One SELECT producing flag rows; ``flagged`` is made NULL-safe."""
    hit = f"coalesce({flagged}, false)"
    return (
        f"SELECT sample_id, {lit(flagger)} AS flagger, {lit(flag)} AS flag, "
        f"CAST({score} AS DOUBLE) AS score, {hit} AS flagged, "
        f"CASE WHEN {hit} THEN {reason} END AS reason, {lit(run_id)} AS run_id FROM {source}"
    )


def keyword_rules(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """``keyword``: any matched term in caption or URL; score = number of matched terms."""
    count = "(len(caption_terms) + len(url_terms))"
    reason = (
        "'keyword: ' || array_to_string(list_concat("
        "list_transform(caption_terms, lambda x: '\"' || x || '\" in caption'), "
        "list_transform(url_terms, lambda x: '\"' || x || '\" in URL')), ', ')"
    )
    return [_row(source, "keyword", "keyword", count, f"{count} > 0", reason, run_id)]


def check_cuts(cuts: list[float]) -> list[float]:
    """punsafe cut points must be increasing probabilities (numbers: TOML lets a list hold text)."""
    numbers = all(isinstance(c, int | float) and not isinstance(c, bool) for c in cuts)
    if not cuts or not numbers or any(not 0 <= c <= 1 for c in cuts) or sorted(cuts) != list(cuts):
        raise ReviewerError(
            f"reviewer.toml [flags] punsafe_cuts = {cuts}: need increasing values in [0, 1]",
            "e.g. punsafe_cuts = [0.5, 0.9]",
        )
    return list(cuts)


def punsafe_band_sql(column: str, cuts: list[float]) -> str:
    """SQL naming the band of a punsafe value: UNLIKELY below the first cut, NSFW from the last.

    With two cuts the middle band is UNSURE; with more, the inner bands are numbered.
    """
    cuts = check_cuts(cuts)
    names = ["UNLIKELY"] + (
        ["NSFW"]
        if len(cuts) == 1
        else (["UNSURE"] if len(cuts) == 2 else [f"BAND{i}" for i in range(1, len(cuts))])
        + ["NSFW"]
    )
    whens = " ".join(
        f"WHEN {column} < {num(cut)} THEN {lit(name)}"
        for cut, name in zip(cuts, names, strict=False)
    )
    return f"CASE WHEN {column} IS NULL THEN NULL {whens} ELSE {lit(names[-1])} END"


def nsfw_field_rules(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """``nsfw_field`` (tag NSFW), ``nsfw_field_unsure`` (tag UNSURE), ``punsafe`` (>= 1st cut)."""
    level = "CASE nsfw_tag WHEN 'UNLIKELY' THEN 0 WHEN 'UNSURE' THEN 1 WHEN 'NSFW' THEN 2 END"
    cuts = check_cuts(flags.punsafe_cuts)
    band = punsafe_band_sql("punsafe", cuts)
    return [
        _row(
            source,
            "nsfw_field",
            "nsfw_field",
            level,
            "nsfw_tag = 'NSFW'",
            "'NSFW field: NSFW'",
            run_id,
        ),
        _row(
            source,
            "nsfw_field",
            "nsfw_field_unsure",
            level,
            "nsfw_tag = 'UNSURE'",
            "'NSFW field: UNSURE'",
            run_id,
        ),
        _row(
            source,
            "nsfw_field",
            "punsafe",
            "punsafe",
            f"punsafe >= {num(cuts[0])}",
            f"printf('punsafe %.2f (%s band)', punsafe, {band})",
            run_id,
        ),
    ]


_HATE_TYPES = (("hateful", "P_hateful"), ("targeted", "P_targeted"), ("aggressive", "P_aggressive"))


def hate_rules(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """One flag per hate type at ``hate_threshold`` and ``hate_any`` (any of the three)."""
    t = num(flags.hate_threshold)
    rows = [
        _row(
            source,
            "hate",
            f"hate_{kind}",
            f"p_{kind}",
            f"p_{kind} > {t}",
            f"printf('{label} %.2f', p_{kind})",
            run_id,
        )
        for kind, label in _HATE_TYPES
    ]
    any_reason = (
        "concat_ws(', ', "
        + ", ".join(
            f"CASE WHEN p_{kind} > {t} THEN printf('{label} %.2f', p_{kind}) END"
            for kind, label in _HATE_TYPES
        )
        + ")"
    )
    any_hit = " OR ".join(f"p_{kind} > {t}" for kind, _ in _HATE_TYPES)
    rows.append(
        _row(
            source,
            "hate",
            "hate_any",
            "greatest(p_hateful, p_targeted, p_aggressive)",
            any_hit,
            any_reason,
            run_id,
        )
    )
    return rows


def clip_rules(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """``clip_nsfw`` at ``clip_nsfw_threshold``; ``clip_mismatch`` below the similarity cut."""
    nsfw = num(flags.clip_nsfw_threshold)
    sim = num(flags.clip_similarity_threshold)
    return [
        _row(
            source,
            "clip",
            "clip_nsfw",
            "p_nsfw",
            f"p_nsfw >= {nsfw}",
            "printf('CLIP NSFW %.2f', p_nsfw)",
            run_id,
        ),
        _row(
            source,
            "clip",
            "clip_mismatch",
            "similarity",
            f"similarity < {sim}",
            f"printf('CLIP similarity %.2f < %.2f', similarity, {sim})",
            run_id,
        ),
    ]


Rule = Callable[[str, str, FlagsSection], list[str]]
"""``rule(source relation, run id, thresholds)`` -> SELECTs producing flag rows."""


def no_flags(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """For a flagger whose scores other commands read but which raises no flags."""
    return []


@dataclass(frozen=True)
class FlaggerSpec:
    """One flagger, declared without importing it.

    Attributes:
        name: Folder under ``scores/``, registry key and CLI name (dashes accepted).
        flagger: ``module:Class`` of the scorer, imported only when a run needs it.
        score_columns: Score column -> Arrow type, written after ``sample_id``.
        flags: Flags derived from the scores, in the order the rule writes them.
        rule: SQL that derives ``flags`` from the score columns and thresholds.
        thresholds: The ``[flags]`` settings the rule reads (changing them never re-scores).
        needs_images: Scores images: refused on an audit without any.
    """

    name: str
    flagger: str
    score_columns: dict[str, pa.DataType]
    flags: tuple[str, ...]
    rule: Rule
    thresholds: tuple[str, ...] = ()
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
            rule=keyword_rules,
        ),
        FlaggerSpec(
            name="nsfw_field",
            flagger="reviewer.flaggers.nsfw_field:NsfwFieldFlagger",
            score_columns={"nsfw_tag": pa.string(), "punsafe": pa.float64()},
            flags=("nsfw_field", "nsfw_field_unsure", "punsafe"),
            rule=nsfw_field_rules,
            thresholds=("punsafe_cuts",),
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
            rule=hate_rules,
            thresholds=("hate_threshold",),
        ),
        FlaggerSpec(
            name="clip",
            flagger="reviewer.flaggers.clip:ClipFlagger",
            score_columns={"p_nsfw": pa.float64(), "similarity": pa.float64()},
            flags=("clip_nsfw", "clip_mismatch"),
            rule=clip_rules,
            thresholds=("clip_nsfw_threshold", "clip_similarity_threshold"),
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
            rule=no_flags,
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
