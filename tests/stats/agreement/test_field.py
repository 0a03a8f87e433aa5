"""Human verdicts against the ordinal CLIP NSFW field, checked by hand arithmetic."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reviewer.stats.field_agreement import verdict_vs_field
from reviewer.stats.intervals import proportion_ci

# Rows: reject / unsure / confirm; columns: UNLIKELY / UNSURE / NSFW.
GRID = {
    "reject": {"UNLIKELY": 40, "UNSURE": 8, "NSFW": 2},
    "unsure": {"UNLIKELY": 3, "UNSURE": 4, "NSFW": 3},
    "confirm": {"UNLIKELY": 5, "UNSURE": 7, "NSFW": 27},
}


def _rows() -> list[tuple[int, str, str | None]]:
    rows: list[tuple[int, str, str | None]] = []
    for verdict, by_tag in GRID.items():
        for tag, count in by_tag.items():
            rows += [(len(rows) + i, verdict, tag) for i in range(count)]
    rows.append((1000, "escalate", "NSFW"))  # harmful a fortiori: joins confirm × NSFW
    rows += [(1001, "skip", "NSFW"), (1002, "skip", "UNLIKELY")]
    rows += [(1003, "confirm", None), (1004, "reject", "garbled")]  # N/A tags
    return rows


def test_table_and_counts() -> None:
    """The 3 × 3 table holds confirm/reject/unsure; escalate joins confirm; the rest counted."""
    result = verdict_vs_field(_rows())
    assert result.table["confirm"] == {"UNLIKELY": 5, "UNSURE": 7, "NSFW": 28}
    assert result.table["reject"] == GRID["reject"]
    assert result.table["unsure"] == GRID["unsure"]
    assert result.counts == {
        "decisions": 104,
        "unsure": 10,
        "skip": 2,
        "escalate": 1,
        "na_tag": 2,
        "unknown_verdict": 0,
    }


def test_confirmed_share_per_tag_uses_wilson() -> None:
    """Share confirmed among confirm + reject per tag: NSFW 28/30, UNSURE 7/15, UNLIKELY 5/45."""
    shares = verdict_vs_field(_rows()).confirmed_share
    assert (shares["NSFW"].k, shares["NSFW"].n) == (28, 30)
    assert (shares["UNSURE"].k, shares["UNSURE"].n) == (7, 15)
    assert (shares["UNLIKELY"].k, shares["UNLIKELY"].n) == (5, 45)
    assert shares["NSFW"].low == proportion_ci(28, 30, "wilson").low


def test_binary_kappa_at_both_cut_points() -> None:
    """Hand arithmetic. Cut NSFW: reject (48 below, 2 at), confirm (12 below, 28 at); n = 90,
    p_o = 76/90, p_e = (50·60 + 40·30)/90², κ = (p_o − p_e)/(1 − p_e) = 0.6769.
    Cut UNSURE+NSFW: reject (40, 10), confirm (5, 35); p_o = 75/90,
    p_e = (50·45 + 40·45)/90² = 0.5, κ = 0.6667; PABAK = 2·75/90 − 1 = 0.6667."""
    binary = verdict_vs_field(_rows()).binary
    nsfw = binary["NSFW"]
    assert nsfw.table == [[48, 2], [12, 28]]
    p_o, p_e = 76 / 90, (50 * 60 + 40 * 30) / 90**2
    assert nsfw.cohen_kappa.value == pytest.approx((p_o - p_e) / (1 - p_e))
    assert nsfw.pabak.value == pytest.approx(2 * p_o - 1)
    wide = binary["UNSURE+NSFW"]
    assert wide.table == [[40, 10], [5, 35]]
    assert wide.cohen_kappa.value == pytest.approx((75 / 90 - 0.5) / 0.5)
    assert wide.percent_agreement.value == pytest.approx(75 / 90)


def test_ac1_of_binary_table_by_hand() -> None:
    """Gwet (2008) two-rater AC1 at cut NSFW: π_harm = (40/90 + 30/90)/2 = 0.3889,
    p_e = 2·π(1 − π) = 0.4753, AC1 = (76/90 − p_e)/(1 − p_e) = 0.7040."""
    ac1 = verdict_vs_field(_rows()).binary["NSFW"].gwet_ac1
    pi = (40 / 90 + 30 / 90) / 2
    p_e = 2 * pi * (1 - pi)
    assert ac1.value == pytest.approx((76 / 90 - p_e) / (1 - p_e))
    assert ac1.low is not None and ac1.high is not None and ac1.low < ac1.value < ac1.high


def test_weighted_kappa_on_ordinal_grid() -> None:
    """Linear weighted κ on the 3 × 3 grid (reject < unsure < confirm vs UNLIKELY < UNSURE
    < NSFW): 1 − Σ w·o / Σ w·e with w = |i − j|, by hand."""
    result = verdict_vs_field(_rows())
    grid = [[40, 8, 2], [3, 4, 3], [5, 7, 28]]
    n = sum(map(sum, grid))
    rows = [sum(r) for r in grid]
    cols = [sum(grid[i][j] for i in range(3)) for j in range(3)]
    observed = sum(abs(i - j) * grid[i][j] for i in range(3) for j in range(3)) / n
    expected = sum(abs(i - j) * rows[i] * cols[j] for i in range(3) for j in range(3)) / n**2
    assert result.weighted["linear"].value == pytest.approx(1 - observed / expected)
    assert result.weighted["quadratic"].value is not None


def test_accepts_arrow_table_and_empty_input() -> None:
    """A table with verdict/tag columns works; no decisions gives undefined κ, not NaN."""
    table = pa.table({"verdict": ["confirm", "reject"], "tag": ["NSFW", "UNLIKELY"]})
    assert verdict_vs_field(table).binary["NSFW"].percent_agreement.value == 1.0
    empty = verdict_vs_field([])
    assert empty.binary["NSFW"].cohen_kappa.value is None
    assert empty.confirmed_share["NSFW"].estimate is None
