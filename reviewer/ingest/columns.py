"""Which source column becomes which canonical column, decided by name alone.

LAION-400M, LAION-2B-en/5B, img2dataset and ad-hoc CSV files spell the same
fields differently (``SAMPLE_ID`` vs nothing, ``TEXT`` vs ``caption``). Matching
is case-insensitive; the first alias present wins and the others are kept as
extra columns, so nothing the source holds is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reviewer.errors import SchemaError
from reviewer.store.samples import column_name
from reviewer.store.schema import CANONICAL_COLUMNS

# Canonical name -> accepted source names (lower case), best first.
ALIASES: dict[str, tuple[str, ...]] = {
    "sample_id": ("sample_id", "sampleid"),
    "url": ("url", "image_url", "img_url"),
    "text": ("text", "caption", "alt", "alt_text"),
    "license": ("license", "licence"),
    "nsfw": ("nsfw",),
    "punsafe": ("punsafe",),
    "pwatermark": ("pwatermark",),
    "similarity": ("similarity",),
    "width": ("width",),
    "height": ("height",),
    "hash": ("hash",),
}

# Columns the ingest itself fills in; a source column of the same name is renamed.
RESERVED = ("dataset", "source_file", "source_row", "image_ref")

# Source columns that may hold a relative image path (img2dataset-like metadata).
IMAGE_PATH_COLUMNS = ("image_path", "filepath", "file_path", "image_file", "path")


@dataclass
class ColumnMap:
    """How the columns of one source file map onto ``samples``.

    Attributes:
        canonical: source column name -> canonical name.
        extra: source column name -> extra column name in ``samples``.
        flavour: The detected layout, for messages (``laion400m``, ``laion2b``, ...).
        key: The source column holding an img2dataset key, if any.
        image_path: The source column holding a relative image path, if any.
    """

    canonical: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    flavour: str = "plain"
    key: str | None = None
    image_path: str | None = None


def map_columns(names: list[str], path: Path) -> ColumnMap:
    """Map source column names onto canonical ones; refuse files without a caption.

    Raises:
        SchemaError: No caption column (``TEXT``/``caption``) in the file.
    """
    lower: dict[str, str] = {}
    for name in names:
        lower.setdefault(name.strip().lower(), name)
    result = ColumnMap()
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                result.canonical[lower[alias]] = canonical
                break
    if "text" not in result.canonical.values():
        raise SchemaError(
            f"{path}: no caption column (looked for TEXT, caption, alt; found "
            f"{', '.join(names[:12]) or 'no columns'})",
            "rename the caption column to TEXT, or check this is image-text metadata",
        )
    taken = set(CANONICAL_COLUMNS)
    for name in names:
        if name in result.canonical:
            continue
        extra = column_name(name)
        if extra in taken or extra in RESERVED:
            extra = f"src_{extra}"
        while extra in taken:
            extra += "_"
        taken.add(extra)
        result.extra[name] = extra
    result.key = lower.get("key")
    result.image_path = next((lower[c] for c in IMAGE_PATH_COLUMNS if c in lower), None)
    result.flavour = _flavour(set(lower))
    return result


def has_id_column(names: list[str]) -> bool:
    """Whether :func:`map_columns` maps one of ``names`` onto ``sample_id``."""
    return any(n.strip().lower() in ALIASES["sample_id"] for n in names)


def _flavour(names: set[str]) -> str:
    if {"sample_id", "nsfw"} <= names:
        return "laion400m"
    if "punsafe" in names or "pwatermark" in names:
        return "laion2b"
    if "key" in names and "status" in names:
        return "img2dataset"
    return "plain"
