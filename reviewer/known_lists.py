"""Known-content lists: the hash and link lists trust & safety teams hold, read and checked.

A list file holds one entry a line, ``type:value`` (``md5:…``, ``sha1:…``,
``sha256:…``, ``pdq:…``, ``url:…``, ``domain:…``) or plain CSV ``type,value``
(a ``type,value`` header is allowed). PDQ entries are the 64-hex-digit strings
ThreatExchange and Hasher-Matcher-Actioner export, so their hash banks match as
exported. Blank lines and ``#`` comments are skipped; CRLF line ends are fine;
hex is case-insensitive; duplicate entries are counted and kept once.

The whole file is parsed and checked before anything is matched, with Arrow's
vectorised string kernels (a 10M-line list is checked in seconds, not a Python
loop per line), so a list with one bad line is refused whole: ``reviewer match``
quarantines nothing from a list it could not read entirely. The list is never
copied into the audit: only its name, entry count and file hash are recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reviewer.errors import ReviewerError

ENTRY_PATTERNS: dict[str, str] = {
    "md5": r"^[0-9a-f]{32}$",
    "sha1": r"^[0-9a-f]{40}$",
    "sha256": r"^[0-9a-f]{64}$",
    "pdq": r"^[0-9a-f]{64}$",
    "url": r"^\S+$",
    "domain": r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
}
"""Entry types and what a valid value looks like (after trimming and lower-casing)."""

_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_LINE = r"^(?P<type>[A-Za-z0-9_]+)\s*[:,]\s*(?P<value>.*)$"
_TYPES_HINT = "use md5:, sha1:, sha256:, pdq:, url: or domain: lines (or CSV type,value)"
MAX_LIST_BYTES = 4 << 30
"""Larger files are refused before reading: a list is read into memory whole."""


@dataclass(frozen=True)
class KnownList:
    """A parsed list: entries by type (unique values), plus what provenance records."""

    name: str
    path: Path
    file_sha256: str
    entries: dict[str, pa.Array] = field(default_factory=dict)
    duplicates: int = 0

    @property
    def count(self) -> int:
        """Unique entries over all types."""
        return sum(len(values) for values in self.entries.values())

    def counts(self) -> dict[str, int]:
        """Unique entries per type."""
        return {kind: len(values) for kind, values in self.entries.items()}


def read_list(path: str | Path, name: str | None = None) -> KnownList:
    """Read and check a list file; any bad line refuses the whole list.

    Raises:
        ReviewerError: missing or unreadable file, unknown entry type, malformed hex,
            wrong length for its type, or no entries at all.
    """
    file = Path(path).expanduser()
    data = _read_bytes(file)
    lines = _lines(file, data)
    number = pa.array(range(1, len(lines) + 1), pa.int64())
    text = pc.utf8_trim_whitespace(lines)
    keep = pc.and_(pc.not_equal(text, ""), pc.invert(pc.starts_with(text, "#")))
    keep = pc.and_(keep, pc.not_equal(pc.utf8_lower(text), "type,value"))
    text, number = text.filter(keep), number.filter(keep)
    parts = pc.extract_regex(text, _LINE)
    _refuse_first(file, number, pc.is_null(parts), "not a 'type:value' entry", text)
    kinds = pc.utf8_lower(pc.struct_field(parts, "type"))
    values = pc.utf8_trim_whitespace(pc.struct_field(parts, "value"))
    unknown = pc.invert(pc.is_in(kinds, value_set=pa.array(list(ENTRY_PATTERNS))))
    _refuse_first(file, number, unknown, "unknown entry type", kinds)
    entries, total = {}, 0
    for kind, pattern in ENTRY_PATTERNS.items():
        mask = pc.equal(kinds, kind)
        if not pc.any(mask).as_py():
            continue
        raw = values.filter(mask)
        value = raw if kind == "url" else pc.utf8_lower(raw)
        _check_values(file, kind, pattern, value, number.filter(mask))
        total += len(value)
        entries[kind] = pc.unique(value)
    if not entries:
        raise ReviewerError(f"list {file}: no entries", _TYPES_HINT)
    unique = sum(len(v) for v in entries.values())
    digest = hashlib.sha256(data).hexdigest()
    return KnownList(name or file.stem, file, digest, entries, total - unique)


def _read_bytes(file: Path) -> bytes:
    try:
        if file.stat().st_size > MAX_LIST_BYTES:
            raise ReviewerError(
                f"list {file}: larger than {MAX_LIST_BYTES >> 30} GiB",
                "split the list into several files and match each",
            )
        return file.read_bytes()
    except FileNotFoundError as exc:
        raise ReviewerError(f"list {file}: no such file", "check the --list path") from exc
    except IsADirectoryError as exc:
        raise ReviewerError(f"list {file}: is a folder", "pass the list file itself") from exc
    except OSError as exc:
        raise ReviewerError(f"list {file}: cannot read ({exc.strerror})") from exc


def _lines(file: Path, data: bytes) -> pa.Array:
    """The file's lines as an Arrow string array (UTF-8 required)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewerError(
            f"list {file}: not UTF-8 text (byte {exc.start})", "save the list as UTF-8 text"
        ) from exc
    return pa.array(text.splitlines(), pa.string())


def _check_values(
    file: Path, kind: str, pattern: str, values: pa.Array, numbers: pa.Array
) -> None:
    """Refuse the first value of ``kind`` that is malformed, naming the line and why."""
    bad = pc.invert(pc.match_substring_regex(values, pattern))
    if kind in _HEX_LENGTHS:
        hex_only = pc.match_substring_regex(values, r"^[0-9a-f]+$")
        wrong_length = pc.and_(bad, hex_only)
        _refuse_first(
            file, numbers, wrong_length,
            f"{kind} needs {_HEX_LENGTHS[kind]} hex digits, got a different length", values,
        )
        _refuse_first(file, numbers, bad, f"{kind} value is not hexadecimal", values)
    _refuse_first(file, numbers, bad, f"malformed {kind} value", values)


def _refuse_first(
    file: Path, numbers: pa.Array, mask: pa.Array, what: str, shown: pa.Array
) -> None:
    """Raise for the first row where ``mask`` is true (no-op when none is)."""
    index = pc.index(mask, True).as_py()
    if index < 0:
        return
    value = shown[index].as_py()
    snippet = "" if value is None else f" {str(value)[:40]!r}"
    raise ReviewerError(
        f"list {file} line {numbers[index].as_py()}: {what}{snippet}; nothing was matched",
        _TYPES_HINT,
    )
