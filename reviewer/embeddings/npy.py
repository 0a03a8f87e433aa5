"""Reading an ``.npy`` header without trusting the file: shape, dtype, truncation.

LAION's ``img_emb_{i}.npy`` files are one 2-D float16 array each (512-d for
ViT-B/32, 768-d for ViT-L/14). A file cut short by an interrupted download still
has a valid header, and ``np.load(mmap_mode="r")`` would then fail late or, for
a file with extra bytes, silently ignore them; so the byte length is checked
against the header before anything is paired or copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewer.errors import ReviewerError

ACCEPTED_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))
"""LAION ships float16; the clip flagger's own vectors are float16 too; float32 is accepted."""


@dataclass(frozen=True)
class NpyInfo:
    """What the header of a checked ``.npy`` file says."""

    path: Path
    rows: int
    dim: int
    dtype: np.dtype
    offset: int
    """Byte offset of the data (after the header)."""


def read_npy_info(path: Path) -> NpyInfo:
    """Check an ``.npy`` file is a whole 2-D float16/float32 C-order array.

    Raises:
        ReviewerError: unreadable, not an ``.npy``, wrong shape or dtype, truncated or
            longer than its header says.
    """
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(handle)
            offset = handle.tell()
        size = path.stat().st_size
    except OSError as exc:
        raise ReviewerError(
            f"{path}: cannot read the embeddings ({exc.strerror})", "check the path"
        ) from exc
    except (ValueError, SyntaxError) as exc:
        raise ReviewerError(
            f"{path}: not an .npy array ({exc})", "give the img_emb_N.npy files as released"
        ) from exc
    if len(shape) != 2 or fortran:
        raise ReviewerError(
            f"{path}: embeddings must be a 2-D C-order array, found shape {shape}",
            "one row per sample, one column per dimension",
        )
    if dtype not in ACCEPTED_DTYPES:
        raise ReviewerError(
            f"{path}: embeddings of dtype {dtype} are not accepted",
            "give float16 (as LAION releases them) or float32",
        )
    expected = offset + shape[0] * shape[1] * dtype.itemsize
    if size != expected:
        state = "truncated" if size < expected else "longer than its header says"
        raise ReviewerError(
            f"{path}: {state} ({size:,} bytes, the header promises {expected:,})",
            "download the file again; nothing of it was stored",
        )
    return NpyInfo(path, int(shape[0]), int(shape[1]), dtype, offset)
