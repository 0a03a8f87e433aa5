"""NSFW-field flagger: the dataset's own CLIP-derived safety fields as one more rater.

LAION-400M carries an ``NSFW`` tag (``UNLIKELY`` < ``UNSURE`` < ``NSFW``; anything
else, e.g. missing or ``None``, counts as ``N/A``); LAION-5B carries ``punsafe``,
a probability. This flagger copies both, normalised, into score files; the flag
rules (:mod:`reviewer.store.flag_rules`) turn the tag into the ``nsfw_field`` and
``nsfw_field_unsure`` flags and bin ``punsafe`` with the cut points in
``reviewer.toml``, so moving a cut point never re-scores.
"""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa

from reviewer.flag_specs import SCORE_COLUMNS
from reviewer.flaggers.base import Flagger

LEVELS = ("UNLIKELY", "UNSURE", "NSFW")


class NsfwFieldFlagger(Flagger):
    """Normalised ``nsfw`` tag and ``punsafe`` of every sample."""

    name: ClassVar[str] = "nsfw_field"
    version: ClassVar[str] = "1"
    batch_size: ClassVar[int] = 1_000_000
    streams: ClassVar[bool] = True
    inputs: ClassVar[tuple[str, ...]] = ("sample_id", "nsfw", "punsafe")
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["nsfw_field"]

    def duckdb_select(self, todo: str) -> str:
        """Upper-case and trim the tag; unknown tags become ``N/A``; out-of-range punsafe NULL."""
        levels = ", ".join(f"'{level}'" for level in LEVELS)
        return (
            "SELECT sample_id, "
            f"CASE WHEN upper(trim(CAST(nsfw AS VARCHAR))) IN ({levels}) "
            "THEN upper(trim(CAST(nsfw AS VARCHAR))) ELSE 'N/A' END AS nsfw_tag, "
            "CASE WHEN TRY_CAST(punsafe AS DOUBLE) BETWEEN 0 AND 1 "
            "THEN TRY_CAST(punsafe AS DOUBLE) END AS punsafe "
            f"FROM {todo}"
        )
