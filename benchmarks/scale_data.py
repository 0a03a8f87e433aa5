"""LAION-400M-shaped parquet files for the scale benchmark, written in bounded memory.

LAION-400M ships 32 parquet files of ~13M rows with the columns SAMPLE_ID, URL,
TEXT, HEIGHT, WIDTH, LICENSE, NSFW, similarity. These files have the same
columns, caption lengths of 4-14 words (about 55 characters, as LAION's median)
and URLs of about 60 characters, with about 2% of rows holding a term of the
2021 keyword list (in the caption, or a few in the host name), so the flagged
subset is about the size the 2021 audit reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

VOCABULARY = (
    "the a of and in on with for to at by from photo image picture stock vector "
    "illustration woman man girl boy dog cat house car beach summer winter red blue green "
    "black white vintage modern wedding dress shoes logo icon background design art painting "
    "poster London New York 2019 HD 4k grape hotel garden kitchen table chair"
)
WORDS = np.array(VOCABULARY.split(" "))
RARE = np.array(["adult", "Hot", "Sex", "xxx", "porn", "sexy", "fuck"])
HOSTS = np.array(["cdn.example.com", "img.shop.net", "i.pinimg.com", "xxx-pics.biz"])
TAGS = np.array(["UNLIKELY", "UNSURE", "NSFW"])
CHUNK = 250_000
ROWS_PER_FILE = 5_000_000
"""Rows per parquet file (LAION's are ~13M; smaller files keep the generator's steps short)."""


def _captions(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` captions of 4-14 words; ~1.8% carry one rare (keyword) word."""
    columns = [pa.array(WORDS[rng.integers(0, len(WORDS), n)]) for _ in range(14)]
    rare_rows = rng.random(n) < 0.018
    slot = rng.integers(0, 4, n)
    rare_words = RARE[rng.integers(0, len(RARE), n)]
    for i in range(4):
        pick = rare_rows & (slot == i)
        columns[i] = pc.if_else(pa.array(pick), pa.array(rare_words), columns[i])
    length = rng.integers(4, 15, n)
    for i in range(4, 14):  # drop trailing words beyond each caption's length
        columns[i] = pc.if_else(pa.array(length > i), columns[i], pa.scalar(None, pa.string()))
    joined = pc.binary_join_element_wise(*columns, " ", null_handling="skip")
    return pc.cast(joined, pa.string())


def write_file(path: Path, start: int, rows: int, seed: int) -> None:
    """One LAION-shaped parquet of ``rows`` rows whose ids start at ``start``."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    tmp = path.with_name(path.name + ".tmp")
    for offset in range(0, rows, CHUNK):
        n = min(CHUNK, rows - offset)
        ids = np.arange(start + offset, start + offset + n, dtype=np.int64)
        host = HOSTS[rng.choice(len(HOSTS), size=n, p=[0.5, 0.3, 0.195, 0.005])]
        number = pc.cast(pa.array(ids * 7919 % 1_000_000_007), pa.string())
        url = pc.binary_join_element_wise(
            "https://", pa.array(host), "/images/photos/2019/", number, "-large.jpg", ""
        )
        table = pa.table(
            {
                "SAMPLE_ID": ids,
                "URL": url,
                "TEXT": _captions(rng, n),
                "HEIGHT": rng.integers(200, 1200, n).astype(np.float64),
                "WIDTH": rng.integers(200, 1200, n).astype(np.float64),
                "LICENSE": pa.array(["?"] * n),
                "NSFW": pa.array(TAGS[rng.choice(3, n, p=[0.9, 0.08, 0.02])]),
                "similarity": rng.uniform(0.28, 0.45, n),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=100_000)
    assert writer is not None
    writer.close()
    tmp.replace(path)


def dataset(folder: Path, rows: int) -> list[Path]:
    """The files of a ``rows``-row dataset in ``folder``, generated once and reused."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        path = folder / f"part-{index:05d}.parquet"
        n = min(ROWS_PER_FILE, rows - start)
        if not path.exists() or pq.ParquetFile(path).metadata.num_rows != n:
            write_file(path, start, n, seed=index)
        files.append(path)
    return files
