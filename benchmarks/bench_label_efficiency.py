"""Labels needed for a ±1-point interval on prevalence: simple random sampling vs Neyman bands.

A simulated LAION-like population (10M items by default, harm rate 0.5 %) where a
model score is noisy but informative (harm probability rises with the score), and a
second population where the score is noise. For each design we find the smallest
budget whose printed interval (the Korn–Graubard interval ``reviewer stats`` prints)
is within ±1 point in ≥ 95 % of seeded repetitions, and report coverage over
≥ 500 repetitions at that budget, plus the interval width at the SRS budget.

Both sides run the same estimator (:func:`reviewer.stats.design.ratio_arrays`) on
draws vectorised over repetitions (no Python loop over items or repetitions); SRS is
the one-stratum design, Neyman allocates over score bands with
:func:`reviewer.sampling.neyman_allocation`.

    python benchmarks/bench_label_efficiency.py [--items 10000000] [--reps 500]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import expit

from reviewer.sampling import BUDGET_BANDS, neyman_allocation
from reviewer.stats.design import StratumSums, ratio_arrays

BANDS = BUDGET_BANDS  # the bands `reviewer sample --budget` uses
MARGIN = 0.01
ASSURANCE = 0.95


def population(items: int, informative: bool, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """(score, harmful) arrays: harm probability from a latent logit; score = noisy view."""
    latent = rng.normal(-6.6, 1.6, items)  # mean harm probability ≈ 0.5 %
    harmful = rng.random(items) < expit(latent)
    score = expit(latent + rng.normal(0.0, 1.0, items))
    if not informative:
        score = rng.permutation(score)
    return score.astype(np.float32), harmful


def strata(score: np.ndarray, harmful: np.ndarray):  # type: ignore[no-untyped-def]
    """Per score band: N_h, harmful K_h and the mean score (the allocation's guess)."""
    band = np.searchsorted(np.asarray(BANDS), score, side="right")
    big_n = np.bincount(band, minlength=len(BANDS) + 1).astype(float)
    positives = np.bincount(band, weights=harmful, minlength=len(BANDS) + 1)
    mean = np.bincount(band, weights=score, minlength=len(BANDS) + 1) / np.maximum(big_n, 1)
    keep = big_n > 0
    return big_n[keep], positives[keep].astype(int), mean[keep]


def simulate(big_n, positives, labels, reps, rng):  # type: ignore[no-untyped-def]
    """Half-widths and coverage of ``reps`` seeded draws with ``labels`` per stratum."""
    shape = (reps, len(big_n))
    k = rng.hypergeometric(np.broadcast_to(positives, shape),
                           np.broadcast_to((big_n - positives).astype(int), shape),
                           np.broadcast_to(labels, shape))
    sums = StratumSums(np.broadcast_to(big_n, shape), np.broadcast_to(labels, shape), k,
                       np.broadcast_to(labels, shape))
    _, low, high, _, _ = ratio_arrays(sums)
    truth = positives.sum() / big_n.sum()
    return (high - low) / 2, (low <= truth) & (truth <= high)


def needed(allocate, big_n, positives, reps, seed):  # type: ignore[no-untyped-def]
    """Smallest budget whose interval is within ±MARGIN in ≥ ASSURANCE of the draws."""
    def ok(budget: int) -> bool:
        half, _ = simulate(big_n, positives, allocate(budget), reps, np.random.default_rng(seed))
        return float(np.mean(half <= MARGIN)) >= ASSURANCE

    low, high = 40, 80  # above the 2 labels per band every design needs
    while not ok(high):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def run(items: int, reps: int, informative: bool, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    score, harmful = population(items, informative, rng)
    big_n, positives, guess = strata(score, harmful)
    total, harm = np.array([big_n.sum()]), np.array([positives.sum()])

    def srs(budget: int) -> np.ndarray:
        return np.array([budget])

    def neyman(budget: int) -> np.ndarray:
        return neyman_allocation(big_n, guess, budget)

    srs_n = needed(srs, total, harm, reps, seed + 1)
    ours_n = needed(neyman, big_n, positives, reps, seed + 1)
    srs_half, srs_cover = simulate(total, harm, srs(srs_n), reps, np.random.default_rng(seed + 2))
    _, ours_cover = simulate(big_n, positives, neyman(ours_n), reps,
                                     np.random.default_rng(seed + 2))
    same_half, _ = simulate(big_n, positives, neyman(srs_n), reps,
                            np.random.default_rng(seed + 3))
    return {"prevalence": float(harm[0] / total[0]), "strata": len(big_n), "srs_labels": srs_n,
            "neyman_labels": ours_n, "ratio": ours_n / srs_n,
            "srs_coverage": float(srs_cover.mean()), "neyman_coverage": float(ours_cover.mean()),
            "width_ratio_at_srs_budget": float(same_half.mean() / srs_half.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for informative in (True, False):
        start = time.perf_counter()
        r = run(args.items, args.reps, informative, args.seed)
        kind = "informative score" if informative else "noise score"
        print(f"{kind}: {args.items:,} items, prevalence {r['prevalence']:.4%},"
              f" {r['strata']} score bands, {args.reps} repetitions")
        print(f"  labels for ±{MARGIN:.0%} in ≥{ASSURANCE:.0%} of draws: SRS {r['srs_labels']:,},"
              f" Neyman {r['neyman_labels']:,} (ratio {r['ratio']:.2f})")
        print(f"  coverage of the 95% interval: SRS {r['srs_coverage']:.1%},"
              f" Neyman {r['neyman_coverage']:.1%}")
        print(f"  interval width at the SRS budget, Neyman / SRS:"
              f" {r['width_ratio_at_srs_budget']:.2f}  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
