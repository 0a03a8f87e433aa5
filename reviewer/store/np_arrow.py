"""Arrow arrays from numpy or Python values without pyarrow's pandas probe.

``pa.array(...)`` and ``pa.table({...: numpy})`` first ask whether their input is a
pandas object, and to ask they import pandas: about a third of a second the first
time, which is as long as a flag pass over a million rows takes. A whole-process
``reviewer flag`` builds only plain integer and string arrays, so it wraps the
buffers directly (:meth:`pyarrow.Array.from_buffers`: no copy for integers).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_INTEGERS = {pa.int32(): np.int32, pa.int64(): np.int64}
INT64 = pa.int64()


def int_array(values: np.ndarray | list[int], type: pa.DataType = INT64) -> pa.Array:
    """An ``int32`` or ``int64`` array over the values (no nulls)."""
    data = np.ascontiguousarray(values, dtype=_INTEGERS[type])
    return pa.Array.from_buffers(type, len(data), [None, pa.py_buffer(data)])


def string_array(values: list[str]) -> pa.Array:
    """A ``string`` array of the values (no nulls)."""
    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def int_table(columns: dict[str, np.ndarray], schema: pa.Schema) -> pa.Table:
    """A table of integer columns, typed by ``schema``."""
    return pa.Table.from_arrays(
        [int_array(columns[f.name], f.type) for f in schema], schema=schema
    )


def int_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The values of an ``int32`` or ``int64`` column without nulls, as one numpy array."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    dtype = _INTEGERS[column.type]
    if column.null_count:
        raise ValueError("int_values: the column has nulls")
    parts = [
        np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)]
        for c in chunks
        if len(c)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
