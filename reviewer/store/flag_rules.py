"""The SQL that turns each flagger's scores into flags (:data:`RULES`).

Flaggers are declared in :data:`reviewer.flag_specs.SPECS` (class, score columns, flags,
the ``[flags]`` settings they read); their rules are SQL, and all SQL lives in ``store``,
so each spec's rule is here, under the same name.

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

from reviewer.config import FlagsSection
from reviewer.errors import ReviewerError
from reviewer.flag_specs import (
    CLIP_NSFW_THRESHOLD,
    CLIP_SIMILARITY_THRESHOLD,
    HATE_THRESHOLD,
    PUNSAFE_CUTS,
)
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
    cuts = check_cuts(flags[PUNSAFE_CUTS])
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
    t = num(flags[HATE_THRESHOLD])
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
    nsfw = num(flags[CLIP_NSFW_THRESHOLD])
    sim = num(flags[CLIP_SIMILARITY_THRESHOLD])
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


SqlRule = Callable[[str, str, FlagsSection], list[str]]
"""``rule(source relation, run id, thresholds)`` -> SELECTs producing flag rows."""


def no_flags(source: str, run_id: str, flags: FlagsSection) -> list[str]:
    """For a flagger whose scores other commands read but which raises no flags."""
    return []


RULES: dict[str, SqlRule] = {
    "keyword": keyword_rules,
    "nsfw_field": nsfw_field_rules,
    "hate": hate_rules,
    "clip": clip_rules,
    "image_hash": no_flags,
}
"""The SQL rule of each flagger in :data:`reviewer.flag_specs.SPECS` (the rest of its
declaration), writing the flags its spec names in that order."""
