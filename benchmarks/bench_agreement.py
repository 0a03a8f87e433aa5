"""Agreement statistics at audit scale, against the obvious library-only baseline.

Run: ``.venv/bin/python benchmarks/bench_agreement.py [--quick]``

Synthetic ratings: items rated by 2-4 of 20 raters on a 3-category nominal
scale (a latent true category, each rater right 80% of the time). Three races:

1. All coefficients with intervals (``agreement_summary``) vs the baseline a
   notebook would write: pandas pivot to a rater × item matrix, statsmodels
   ``aggregate_raters`` + ``fleiss_kappa``, ``krippendorff.alpha`` on the
   reliability matrix (point estimates only, no intervals).
2. Krippendorff's α bootstrap: our multinomial draw over distinct count patterns
   vs resampling items and calling ``krippendorff.alpha`` once per resample
   (timed on a few resamples and scaled to the same count).
3. Peak RSS of the process after the full run.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa


def synthetic(n_labels: int, n_raters: int = 20, q: int = 3, seed: int = 1) -> pa.Table:
    """About ``n_labels`` (item, rater, label) rows with realistic disagreement."""
    rng = np.random.default_rng(seed)
    per_item = rng.integers(2, 5, size=n_labels // 3)
    items = np.repeat(np.arange(per_item.size), per_item)
    truth = rng.integers(0, q, size=per_item.size)[items]
    raters = np.concatenate([rng.choice(n_raters, size=k, replace=False) for k in per_item])
    wrong = rng.random(items.size) > 0.8
    labels = np.where(wrong, rng.integers(0, q, size=items.size), truth)
    return pa.table(
        {
            "item": pa.array(items.astype(str)),
            "rater": pa.array(np.char.add("r", raters.astype(str))),
            "label": pa.array(np.char.add("c", labels.astype(str))),
        }
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def baseline_point_estimates(table: pa.Table) -> dict[str, float]:
    """What a notebook does: pivot, aggregate, call the libraries (no intervals)."""
    import krippendorff
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    frame = table.to_pandas()
    codes = frame["label"].astype("category").cat.codes
    frame = frame.assign(code=codes)
    wide = frame.pivot(index="rater", columns="item", values="code")
    alpha = krippendorff.alpha(
        reliability_data=wide.to_numpy(float), level_of_measurement="nominal"
    )
    complete = frame[frame.groupby("item")["code"].transform("size") == 2]
    pairs = complete.pivot_table(
        index="item", columns=complete.groupby("item").cumcount(), values="code"
    )
    counts, _ = aggregate_raters(pairs.to_numpy(int))
    return {"alpha": float(alpha), "fleiss_2_rater_items": float(fleiss_kappa(counts))}


def race_summary(table: pa.Table) -> tuple[float, float]:
    """Seconds for our full summary (with intervals) and for the baseline."""
    from reviewer.stats.agreement import agreement_summary

    ours, summary = timed(lambda: agreement_summary(table, n_boot=1000))
    base, reference = timed(lambda: baseline_point_estimates(table))
    assert abs(summary.krippendorff_alpha.value - reference["alpha"]) < 1e-9
    return ours, base


def race_bootstrap(table: pa.Table, naive_resamples: int) -> tuple[float, float]:
    """Seconds for 1000 α resamples: pattern multinomial vs per-resample package calls."""
    import krippendorff

    from reviewer.stats.alpha import krippendorff_alpha
    from reviewer.stats.ratings import as_ratings

    counts = as_ratings(table).counts
    ours, _ = timed(lambda: krippendorff_alpha(counts, "nominal", n_boot=1000, seed=0))
    rng = np.random.default_rng(0)

    def naive() -> None:
        for _ in range(naive_resamples):
            pick = rng.integers(0, counts.shape[0], size=counts.shape[0])
            krippendorff.alpha(value_counts=counts[pick], level_of_measurement="nominal")

    base, _ = timed(naive)
    return ours, base * 1000 / naive_resamples


def main() -> None:
    """Run the races and print seconds and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, < 60 s")
    args = parser.parse_args()
    sizes = [50_000] if args.quick else [100_000, 1_000_000]
    naive = 5 if args.quick else 10
    print(
        f"{'labels':>10} {'items':>9} {'summary s':>10} {'baseline s':>11} {'ratio':>6}"
        f" {'α boot s':>9} {'naive boot s':>13} {'speed-up':>9}"
    )
    for n in sizes:
        table = synthetic(n)
        items = len(set(table.column("item").to_pylist()))
        ours, base = race_summary(table)
        boot, naive_boot = race_bootstrap(table, naive)
        print(
            f"{table.num_rows:>10,} {items:>9,} {ours:>10.2f} {base:>11.2f} {ours / base:>6.2f}"
            f" {boot:>9.3f} {naive_boot:>13.1f} {naive_boot / boot:>8.0f}×"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB (whole run, baseline included)")


if __name__ == "__main__":
    main()
