"""Reading and checking (item, rater, label) triples in every accepted form."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewer.errors import ReviewerError
from reviewer.stats.agreement import cohen_kappa
from reviewer.stats.ratings import as_ratings, read_ratings

from .published import table_to_triples

TRIPLES = table_to_triples([[20, 5], [10, 15]], ["yes", "no"])


@pytest.mark.parametrize(
    "form",
    [
        lambda: TRIPLES,
        lambda: [{"item": i, "rater": r, "label": v} for i, r, v in TRIPLES],
        lambda: pa.table(
            {
                "item": [t[0] for t in TRIPLES],
                "rater": [t[1] for t in TRIPLES],
                "label": [t[2] for t in TRIPLES],
            }
        ),
        lambda: pd.DataFrame(TRIPLES, columns=["sample_id", "reviewer", "verdict"]),
        lambda: pd.DataFrame(TRIPLES, columns=["item", "rater", "label"]).astype("category"),
        lambda: [(i, r, v == "yes") for i, r, v in TRIPLES],
    ],
    ids=["tuples", "dicts", "arrow", "pandas-aliases", "pandas-categorical", "booleans"],
)
def test_every_input_form_gives_the_same_kappa(form: object) -> None:
    """Wikipedia's 50-item example, κ = 0.4, whatever container carries it."""
    assert callable(form)
    assert cohen_kappa(form()).value == pytest.approx(0.4)


def test_duplicates_keep_the_last_label() -> None:
    """A rater who changed their mind: the later row wins and the earlier is counted."""
    ratings = as_ratings([(1, "A", "no"), (1, "B", "yes"), (1, "A", "yes")])
    assert ratings.n_duplicates == 1
    table, _ = ratings.pair_table()
    assert int(table.trace()) == 1


def test_missing_labels_are_missing_data() -> None:
    """Empty labels are dropped and counted, not treated as a category."""
    ratings = as_ratings([(1, "A", "x"), (1, "B", None), (2, "A", "y"), (2, "B", "y")])
    assert ratings.n_missing == 1
    assert ratings.categories == ["x", "y"]


def test_missing_column_names_it_and_lists_found(tmp_path: Path) -> None:
    """The message names the missing role and lists the columns the file has."""
    path = tmp_path / "r.csv"
    path.write_text("item,who,label\n1,a,x\n")
    with pytest.raises(ReviewerError) as info:
        read_ratings(path)
    assert "rater" in info.value.message
    assert "item, who, label" in info.value.message


def test_explicit_column_names(tmp_path: Path) -> None:
    """--item/--rater/--label pick columns with any names."""
    path = tmp_path / "r.csv"
    path.write_text("img,who,says\n1,a,x\n1,b,x\n2,a,y\n2,b,x\n")
    ratings = read_ratings(path, item="img", rater="who", label="says")
    assert (ratings.n_items, ratings.n_raters) == (2, 2)


def test_mixed_label_types_in_csv(tmp_path: Path) -> None:
    """Numbers and text in one label column get a clear message with an example of each."""
    path = tmp_path / "r.csv"
    path.write_text("item,rater,label\n1,a,1\n1,b,yes\n")
    with pytest.raises(ReviewerError, match=r"mixes numbers \(e\.g\. 1\) and text"):
        read_ratings(path)


def test_mixed_label_types_in_python_list() -> None:
    """Python lists with ints and strings are refused the same way."""
    with pytest.raises(ReviewerError, match="mixes"):
        as_ratings([(1, "a", 1), (1, "b", "yes")])


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    """An empty file and a header without rows are both clear errors."""
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ReviewerError, match="empty"):
        read_ratings(empty)
    header = tmp_path / "header.csv"
    header.write_text("item,rater,label\n")
    with pytest.raises(ReviewerError, match="no rows"):
        read_ratings(header)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    """A path that does not exist, and a format we do not read."""
    with pytest.raises(ReviewerError, match="no such file"):
        read_ratings(tmp_path / "nope.csv")
    other = tmp_path / "r.xlsx"
    other.write_bytes(b"x")
    with pytest.raises(ReviewerError, match="unknown file type"):
        read_ratings(other)


def test_parquet_with_numeric_labels(tmp_path: Path) -> None:
    """Parquet keeps numeric labels numeric: the interval scale uses their values."""
    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table(
            {"item": [1, 1, 2, 2], "rater": ["a", "b", "a", "b"], "label": [1.0, 3.0, 2.0, 2.0]}
        ),
        path,
    )
    ratings = read_ratings(path, level="interval")
    assert ratings.categories == [1.0, 2.0, 3.0]
    assert ratings.numeric is not None and list(ratings.numeric) == [1.0, 2.0, 3.0]


def test_ordinal_text_needs_order() -> None:
    """Text labels on an ordinal scale have no known order: ask for --order."""
    with pytest.raises(ReviewerError) as info:
        as_ratings(TRIPLES, level="ordinal")
    assert "order is unknown" in info.value.message
    assert "--order no,yes" in info.value.hint
    ratings = as_ratings(TRIPLES, level="ordinal", order=["no", "yes"])
    assert ratings.categories == ["no", "yes"]


def test_label_outside_order_is_named() -> None:
    """A label missing from --order is an error naming the label."""
    with pytest.raises(ReviewerError, match="maybe"):
        as_ratings([(1, "a", "yes"), (1, "b", "maybe")], order=["no", "yes"])


def test_unknown_level() -> None:
    """Only nominal, ordinal and interval exist."""
    with pytest.raises(ReviewerError, match="unknown level"):
        as_ratings(TRIPLES, level="ratio")
