"""Keyword flagger: the 2021 LAION-400M audit's substring rule, vectorised in DuckDB.

Birhane, Prabhu & Kahembwe (2021) lower-cased each caption and URL and flagged a
sample when either contained one of seven substrings (``'porn'``, ``'hot '``,
``'adult'``, ``'xxx'``, ``'sex'``, ``'fuck'``, ``' rape '``), one row at a time
with pandas ``df.apply``. ``substring`` mode reproduces that rule exactly (so
"Essex" matches ``sex``, and ``'hot '`` needs its trailing space); ``word`` mode
strips the terms and requires word boundaries, which removes false positives
such as "Essex" or "hotel".

Speed: one case-insensitive alternation regex (RE2 through Arrow, chunks on all
cores, the GIL released) is a cheap pre-filter over caption and URL; only rows it
passes (a few per cent) are re-checked term by term in DuckDB with the exact
``contains(lower(x), term)`` rule, so the pre-filter never changes the result: RE2
case folding only widens it (the Kelvin sign folds to "k"), and the one character
DuckDB's ``lower()`` maps to ASCII without folding to it (U+0130, "İ" -> "i") is
added to the pre-filter when a term contains "i".
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.assets import ASSETS
from reviewer.errors import ReviewerError
from reviewer.flaggers.base import Flagger
from reviewer.store.flag_rules import SCORE_COLUMNS
from reviewer.store.sql import lit

if TYPE_CHECKING:
    from reviewer.audit import Audit

MODES = ("substring", "word")
DEFAULT_LIST = ASSETS / "keywords" / "laion400m_2021.txt"
AUDIT_2021_TERMS = ("porn", "hot ", "adult", "xxx", "sex", "fuck", " rape ")
"""The 2021 audit's terms, in its order; also the content of the shipped list."""

_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")
_CHUNK_ROWS = 131_072


def read_keyword_file(path: Path) -> list[str]:
    """Read a keyword list: one term per line, ``#`` comments, blank lines skipped.

    Leading and trailing spaces are part of a term (``'hot '``), and editors strip
    them silently, so a term may be written as a JSON-style double-quoted string:
    ``"hot "``. Terms are lower-cased, as the rule compares lower-cased text.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewerError(
            f"{path}: cannot read the keyword list ({exc})", "pass a UTF-8 text file"
        ) from exc
    terms: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith('"'):
            if len(stripped) < 3 or not stripped.endswith('"'):
                raise ReviewerError(f"{path}:{number}: unterminated quoted term", 'write "term"')
            term = stripped[1:-1].replace('\\"', '"')
        else:
            term = line
        if term.lower() not in terms:
            terms.append(term.lower())
    if not terms:
        raise ReviewerError(f"{path}: the keyword list is empty", "add one term per line")
    return terms


def _regex_escape(term: str) -> str:
    return "".join(f"\\{c}" if c in _REGEX_SPECIAL else c for c in term)


class KeywordFlagger(Flagger):
    """Matched keyword terms per sample, in caption and URL separately.

    Args:
        keywords: Path of a keyword list; ``None`` uses the shipped 2021 list.
        mode: ``substring`` (2021 rule, default) or ``word`` (word boundaries).
        terms: Terms given directly (tests, notebooks); overrides ``keywords``.
    """

    name: ClassVar[str] = "keyword"
    version: ClassVar[str] = "1"
    batch_size: ClassVar[int] = 1_000_000
    streams: ClassVar[bool] = True
    inputs: ClassVar[tuple[str, ...]] = ("sample_id", "text", "url")
    columns: ClassVar[dict[str, pa.DataType]] = SCORE_COLUMNS["keyword"]

    def __init__(
        self,
        keywords: str | Path | None = None,
        mode: str | None = None,
        terms: list[str] | None = None,
        audit: Audit | None = None,
    ) -> None:
        """Options not given come from the audit's ``[flags]`` settings (``keyword_mode``,
        ``keyword_list``, a relative path taken from the audit folder), else the defaults:
        the 2021 audit's substring rule and list."""
        flags = audit.settings.flags if audit is not None else None
        mode = mode or (flags.keyword_mode if flags is not None else "substring")
        if keywords is None and flags is not None and flags.keyword_list:
            path = Path(flags.keyword_list).expanduser()
            keywords = path if path.is_absolute() or audit is None else audit.root / path
        if mode not in MODES:
            raise ReviewerError(f"keyword mode '{mode}' is unknown", f"use one of {MODES}")
        self.mode = mode
        self.list_path = Path(keywords).expanduser() if keywords else DEFAULT_LIST
        self.terms: list[str] = [t.lower() for t in terms] if terms else []
        if not self.terms:
            if not self.list_path.exists() and not keywords:
                self.terms = list(AUDIT_2021_TERMS)
            else:
                self.terms = read_keyword_file(self.list_path)

    def params(self) -> dict[str, Any]:
        """Mode and the terms themselves (not the path: the same list in two files is one run)."""
        return {"mode": self.mode, "terms": self.terms}

    def _patterns(self) -> list[str]:
        """One RE2 pattern per term (word mode), or the plain terms (substring mode)."""
        if self.mode == "substring":
            return self.terms
        out = []
        for term in self.terms:
            core = term.strip()
            if not core:
                raise ReviewerError("keyword list: a term is only spaces", "remove it")
            out.append(r"\b" + _regex_escape(core) + r"\b")
        return out

    def _hits(self, lowered: str) -> str:
        """SQL: the list of terms found in one lower-cased column (empty list for NULL)."""
        if self.mode == "substring":
            checks = [f"contains({lowered}, {lit(t)})" for t in self.terms]
        else:
            checks = [f"regexp_matches({lowered}, {lit(p)})" for p in self._patterns()]
        items = ", ".join(
            f"CASE WHEN {check} THEN {lit(term)} END"
            for check, term in zip(checks, self.terms, strict=True)
        )
        return f"coalesce(list_filter([{items}], lambda x: x IS NOT NULL), []::VARCHAR[])"

    def duckdb_select(self, todo: str) -> str:
        """The exact rule in one vectorised DuckDB query (lower-case once, then each term).

        :meth:`score_batch` runs it only on the rows the RE2 pre-filter passes.
        """
        return (
            f"SELECT sample_id, {self._hits('_lt')} AS caption_terms, "
            f"{self._hits('_lu')} AS url_terms "
            f"FROM (SELECT sample_id, lower(text) AS _lt, lower(url) AS _lu FROM {todo})"
        )

    def prefilter_pattern(self) -> str:
        """Case-insensitive RE2 alternation that every matching row passes (a superset)."""
        alternatives = [
            _regex_escape(t if self.mode == "substring" else t.strip()) for t in self.terms
        ]
        if any("i" in t for t in self.terms):
            alternatives.append("\u0130")
        return "|".join(alternatives)

    def candidates(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Rows of a string column that may hold a term, scanned in parallel chunks."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        pattern = self.prefilter_pattern()
        pieces = [column.slice(i, _CHUNK_ROWS) for i in range(0, len(column), _CHUNK_ROWS)]

        def scan(piece: pa.Array) -> np.ndarray:
            hits = pc.match_substring_regex(piece, pattern, ignore_case=True)
            return np.asarray(pc.fill_null(hits, False), dtype=bool)

        if len(pieces) <= 1:
            return scan(column) if pieces else np.zeros(0, dtype=bool)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return np.concatenate(list(pool.map(scan, pieces)))

    def score_batch(self, batch: pa.Table) -> pa.Table:
        """Pre-filter in Arrow, then the exact rule in DuckDB on the candidate rows only."""
        mask = self.candidates(batch.column("text").cast(pa.string()))
        mask |= self.candidates(batch.column("url").cast(pa.string()))
        hits = super().score_batch(batch.filter(pa.array(mask))) if mask.any() else None
        rest = batch.column("sample_id").filter(pa.array(~mask))
        empty = pa.ListArray.from_arrays(
            pa.array(np.zeros(len(rest) + 1, dtype=np.int32)), pa.array([], pa.string())
        )
        schema = self.output_schema()
        misses = pa.Table.from_arrays([rest.cast(pa.string()), empty, empty], schema=schema)
        return misses if hits is None else pa.concat_tables([hits.cast(schema), misses])
