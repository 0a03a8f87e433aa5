"""SQL that labels each sample with its stratum.

Stratum labels are SQL expressions over ``s`` (the samples row) and ``f`` (that
sample's flags pivoted by :func:`flag_columns`), so a plan's strata are computed
by DuckDB in the same statement that draws the plan (over the ``flags`` view of
:class:`reviewer.store.scores.FlagViews`), one slice of the audit at a time
(:mod:`reviewer.store.slices`).
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.flag_specs import FLAG_NAMES, PUNSAFE_CUTS, SPECS
from reviewer.store.flag_rules import punsafe_band_sql
from reviewer.store.schema import NSFW_LEVELS
from reviewer.store.sql import lit


def stratum_expression(key: str, settings: Settings, bands: Sequence[float]) -> str:
    """The SQL expression labelling a sample's stratum for one ``--strata`` key.

    Keys: ``flag`` (the set of flags raised, e.g. ``keyword+nsfw_field``), ``nsfw``
    (the LAION tag), ``punsafe`` (banded at the configured cut points), ``score:FLAG``
    (that flag's score in ``bands``) and ``dataset``.
    """
    if key == "flag":
        return "coalesce(f.flagset, 'unflagged')"
    if key == "nsfw":
        levels = ", ".join(f"'{lvl}'" for lvl in NSFW_LEVELS)
        return f"'nsfw=' || CASE WHEN s.nsfw IN ({levels}) THEN s.nsfw ELSE 'N/A' END"
    if key == "punsafe":
        # The flags' own banding, so any valid punsafe_cuts (one cut, three) works here too.
        band = punsafe_band_sql("s.punsafe", settings.flags[PUNSAFE_CUTS])
        return f"'punsafe=' || coalesce({band}, 'N/A')"
    if key == "dataset":
        return "'dataset=' || coalesce(s.dataset, '?')"
    if key.startswith("score:"):
        flag = key.split(":", 1)[1]
        check_flag(flag, f"--strata {key}", "e.g. score:hate_hateful")
        cuts = sorted(float(b) for b in bands)
        cases = " ".join(
            f"WHEN f.score_{flag} < {hi!r} THEN '[{lo:g},{hi:g})'"
            for lo, hi in zip([0.0, *cuts], cuts, strict=False)
        )
        last = cuts[-1] if cuts else 0.0
        return (
            f"'{flag}=' || CASE WHEN f.score_{flag} IS NULL THEN 'none' {cases}"
            f" ELSE '[{last:g},1]' END"
        )
    raise ReviewerError(
        f"--strata: unknown key '{key}'", "use flag, nsfw, punsafe, dataset or score:FLAG"
    )


def check_flag(flag: str, option: str, example: str) -> None:
    """Refuse a flag name no flagger declares, naming the ``option`` that gave it:
    an unknown flag's score is NULL everywhere, so every sample would land in one
    silent "FLAG=none" stratum. The name goes into SQL, so it must be a plain word."""
    if not flag.replace("_", "").isalnum():
        raise ReviewerError(f"{option}: bad flag name", example)
    known = [name for names in FLAG_NAMES.values() for name in names]
    if flag not in known:
        raise ReviewerError(f"{option}: unknown flag '{flag}'", f"flags: {', '.join(known)}")


def flag_bits() -> tuple[list[str], str]:
    """Every flag name, in name order, and the SQL ``CASE flag`` arms giving each its bit."""
    names = sorted({flag for spec in SPECS.values() for flag in spec.flags})
    return names, " ".join(f"WHEN {lit(name)} THEN {1 << i}" for i, name in enumerate(names))


def flag_columns(keys: Sequence[str]) -> str:
    """Per sample: the set of flags it raised and the scores ``keys`` ask for.

    Only flagged rows (and rows of a flag whose score is a key) are grouped: a sample
    that raised nothing gets NULLs from the caller's LEFT JOIN just as from a group of
    its own, and grouping a few per cent of the rows instead of every sample's every
    flag keeps ``plan`` and ``sample`` small at 100M samples. The set is gathered as a
    bit mask (``bit_or``: a fixed-size state DuckDB can spill) and spelled out after
    grouping, in name order: a ``string_agg(DISTINCT … ORDER BY …)`` keeps every group's
    rows in memory whatever the memory limit (at 100M rows +180 MB over 20M).
    """
    names, bits = flag_bits()
    spelled = ", ".join(
        f"CASE WHEN mask & {1 << i} <> 0 THEN {lit(name)} END" for i, name in enumerate(names)
    )
    scores = [k.split(":", 1)[1] for k in keys if k.startswith("score:")]
    extra = "".join(
        f", max(score) FILTER (WHERE flag = '{flag}') AS score_{flag}" for flag in scores
    )
    rows = " OR ".join(["flagged", *(f"flag = '{flag}'" for flag in scores)])
    return (
        f"SELECT * EXCLUDE (mask), nullif(concat_ws('+', {spelled}), '') AS flagset FROM"
        f" (SELECT sample_id, bit_or(CASE flag {bits} END::BIGINT) FILTER (WHERE flagged)"
        f" AS mask{extra} FROM flags WHERE {rows} GROUP BY sample_id)"
    )
