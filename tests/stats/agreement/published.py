"""Published reliability data sets and helpers that turn them into (item, rater, label) triples."""

from __future__ import annotations

from typing import Any

Triples = list[tuple[Any, Any, Any]]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, missing values blank. Same data as Gwet's (2014) ``cac.raw4raters``.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, None],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Gwet (2014), dataset ``cac.raw5obser``: 5 observers score 15 units on 0-3; only observer 3
# scored every unit.
GWET_5_OBSERVERS = {
    "O1": [1, 1, 2, None, 0, 0, 1, 1, 2, 2, None, 0, 1, 3, 1],
    "O2": [1, 1, 3, 0, 0, 0, 0, None, 2, 1, 1, 0, 2, 3, 1],
    "O3": [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
    "O4": [None, 1, 3, None, None, None, None, 0, None, 1, 0, 0, 2, 2, None],
    "O5": [2, None, None, 0, 0, 0, 1, None, 2, None, None, None, None, 3, 1],
}

# Fleiss (1971) as tabulated on Wikipedia ("Fleiss' kappa", worked example): 10 subjects,
# 14 raters each, 5 categories; entries are how many raters chose category j for subject i.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def matrix_to_triples(columns: dict[str, list[Any]]) -> Triples:
    """Rater columns (None = not rated) as (unit, rater, value) triples."""
    return [
        (f"u{unit}", rater, value)
        for rater, values in columns.items()
        for unit, value in enumerate(values)
        if value is not None
    ]


def table_to_triples(table: list[list[int]], categories: list[Any]) -> Triples:
    """A two-rater contingency table (rows: rater A, columns: rater B) as triples."""
    triples: Triples = []
    item = 0
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            for _ in range(count):
                triples += [(item, "A", categories[i]), (item, "B", categories[j])]
                item += 1
    return triples


def counts_to_triples(counts: list[list[int]]) -> Triples:
    """An item × category count table as triples (rater names are arbitrary per item)."""
    triples: Triples = []
    for item, row in enumerate(counts):
        rater = 0
        for category, count in enumerate(row):
            for _ in range(count):
                triples.append((item, f"r{rater}", f"c{category}"))
                rater += 1
    return triples
