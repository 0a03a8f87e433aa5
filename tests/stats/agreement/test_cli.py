"""``reviewer agreement``: output contract and one-line errors, through the ``cli`` fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import Cli

from .published import KRIPPENDORFF_2011, matrix_to_triples, table_to_triples

CONTRACT = [
    "n_items",
    "n_raters",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "pabak",
]


def _csv(
    path: Path, triples: list[tuple[object, object, object]], header: str = "item,rater,label"
) -> Path:
    lines = [header] + [",".join("" if v is None else str(v) for v in t) for t in triples]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_json_keys_and_values_krippendorff(tmp_path: Path, cli: Cli) -> None:
    """JSON carries exactly the contract keys first, numbers or null; α nominal = 0.743
    (Krippendorff 2011); four raters, so Cohen's κ is null with a note; PABAK is
    Brennan–Prediger's (q·p_a − 1)/(q − 1) of the pairwise agreement."""
    path = _csv(tmp_path / "k.csv", matrix_to_triples(KRIPPENDORFF_2011))
    code, out, _ = cli("agreement", path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc)[:8] == CONTRACT
    assert doc["n_items"] == 12 and doc["n_raters"] == 4
    assert doc["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)
    assert doc["gwet_ac1"] == pytest.approx(0.775, abs=5e-4)
    assert doc["cohen_kappa"] is None
    q = len(doc["categories"])
    assert doc["pabak"] == pytest.approx((q * doc["percent_agreement"] - 1) / (q - 1))
    assert "two raters" in doc["notes"]["cohen_kappa"]
    assert doc["intervals"]["krippendorff_alpha"]["low"] is not None


def test_interval_level_on_parquet(tmp_path: Path, cli: Cli) -> None:
    """--level interval on a parquet file: α interval = 0.849 (Krippendorff 2011)."""
    triples = matrix_to_triples(KRIPPENDORFF_2011)
    path = tmp_path / "k.parquet"
    pq.write_table(
        pa.table(
            {
                "unit": [t[0] for t in triples],
                "coder": [t[1] for t in triples],
                "value": [t[2] for t in triples],
            }
        ),
        path,
    )
    code, out, _ = cli("agreement", path, "--level", "interval", "--json")
    assert code == 0
    assert json.loads(out)["krippendorff_alpha"] == pytest.approx(0.849, abs=5e-4)


def test_two_raters_binary_text_table(tmp_path: Path, cli: Cli) -> None:
    """Text output: one aligned row per statistic; Wikipedia's κ = 0.400 and PABAK 0.400."""
    path = _csv(tmp_path / "w.csv", table_to_triples([[20, 5], [10, 15]], ["yes", "no"]))
    code, out, _ = cli("agreement", path)
    assert code == 0
    rows = {line[:27].strip(): line for line in out.splitlines()}
    assert "0.400" in rows["Cohen's kappa"]
    assert "0.400" in rows["PABAK"]
    assert "0.700" in rows["percent agreement"]
    columns = {line.index(" 0.") for line in out.splitlines() if " 0." in line[20:40]}
    assert len(columns) == 1  # values aligned in one column


def test_ordinal_adds_weighted_kappa(tmp_path: Path, cli: Cli) -> None:
    """--level ordinal --order on text labels adds linear and quadratic weighted κ:
    Gwet (2014) cont3x3abstractors, 0.843 and 0.892."""
    order = ["Ectopic", "AIU", "NIU"]
    path = _csv(tmp_path / "a.csv", table_to_triples([[13, 0, 0], [0, 20, 7], [0, 4, 56]], order))
    code, out, _ = cli(
        "agreement", path, "--level", "ordinal", "--order", ",".join(order), "--json"
    )
    assert code == 0
    weighted = json.loads(out)["weighted_kappa"]
    assert weighted["linear"] == pytest.approx(0.843, abs=5e-4)
    assert weighted["quadratic"] == pytest.approx(0.892, abs=5e-4)


def test_custom_columns(tmp_path: Path, cli: Cli) -> None:
    """--item/--rater/--label name the columns."""
    path = _csv(tmp_path / "c.csv", table_to_triples([[3, 1], [1, 3]], ["a", "b"]), "img,who,says")
    code, out, _ = cli(
        "agreement", path, "--item", "img", "--rater", "who", "--label", "says", "--json"
    )
    assert code == 0
    assert json.loads(out)["n_items"] == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "empty"),
        ("item,rater,label\n", "no rows"),
        ("item,label\n1,x\n", "columns found: item, label"),
        ("item,rater,label\n1,a,1\n1,b,yes\n", "mixes numbers"),
        ("item,rater,label\n1,a,x\n2,a,y\n", "only one rater"),
    ],
    ids=["missing", "empty", "header-only", "missing-column", "mixed-types", "one-rater"],
)
def test_bad_input_is_one_line_and_nonzero(
    tmp_path: Path, content: str | None, message: str, cli: Cli
) -> None:
    """Every bad input: exit code 2, one line on stderr naming the problem, no traceback."""
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    code, out, err = cli("agreement", path)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_ordinal_text_without_order(tmp_path: Path, cli: Cli) -> None:
    """--level ordinal with text labels and no --order asks for the order."""
    path = _csv(tmp_path / "o.csv", table_to_triples([[3, 1], [1, 3]], ["low", "high"]))
    code, _, err = cli("agreement", path, "--level", "ordinal")
    assert code == 2
    assert "--order" in err
