"""Labels needed for a ±1-point interval on prevalence: simple random sampling vs Neyman bands.

Three simulated LAION-like populations (10M items by default, harm rate ≈ 0.5 %):

- **informative score**: latent ~ N(−6.6, 1.6), harmful ~ Bernoulli(expit(latent)),
  score = expit(latent + N(0, 1)) — harm probability rises with the score but stays
  ≪ 1 even at the top (~15 % in the top 0.1 % of the score);
- **noise score**: the same scores permuted, so they say nothing about harm;
- **sharp score**: z ~ N(0, 1), harmful ~ Bernoulli(expit(−11.16 + 3.91·z)) (calibrated
  to 0.5 % overall and 85 % in the top 0.1 % of z, like LAION's NSFW tag: ~90 % harmful
  at NSFW), score = expit(−6.6 + 1.6·(z + N(0, 0.5))) — harm rises steeply to
  near-certainty at the top of the score.

Bands are cut at the score's quantiles (:data:`reviewer.sampling.BUDGET_QUANTILES`, as
``reviewer sample --budget`` does) and labels allocated by the same guarded Neyman
allocation. For each design we find the smallest budget whose printed interval (the
Korn–Graubard interval ``reviewer stats`` prints) is within ±1 point in ≥ 95 % of seeded
repetitions, and report coverage over ≥ 500 repetitions at that budget, the interval
width at the SRS budget, and the *oracle bound*: the width ratio to SRS of the best
stratified design over the same bands (Neyman with the true p_h, no floors, normal
approximation: Σ W_h S_h / sqrt(p(1 − p))), which no allocation over those bands beats.

Both sides run the same estimator (:func:`reviewer.stats.design.ratio_arrays`) on
draws vectorised over repetitions (no Python loop over items or repetitions); SRS is
the one-stratum design.

    python benchmarks/bench_label_efficiency.py [--items 10000000] [--reps 500]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import expit

from reviewer.sampling import BUDGET_QUANTILES, NOISE_LIMIT, neyman_allocation, quantile_cuts
from reviewer.stats.design import StratumSums, ratio_arrays

MARGIN = 0.01
ASSURANCE = 0.95
POPULATIONS = ("informative score", "noise score", "sharp score")


def population(items: int, kind: str, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """(score, harmful) arrays of one of :data:`POPULATIONS` (see the module docstring)."""
    if kind == "sharp score":
        z = rng.normal(0.0, 1.0, items)
        harmful = rng.random(items) < expit(-11.16 + 3.91 * z)
        score = expit(-6.6 + 1.6 * (z + rng.normal(0.0, 0.5, items)))
        return score.astype(np.float32), harmful
    latent = rng.normal(-6.6, 1.6, items)  # mean harm probability ≈ 0.5 %
    harmful = rng.random(items) < expit(latent)
    score = expit(latent + rng.normal(0.0, 1.0, items))
    if kind == "noise score":
        score = rng.permutation(score)
    return score.astype(np.float32), harmful


def strata(score: np.ndarray, harmful: np.ndarray):  # type: ignore[no-untyped-def]
    """Per quantile band: N_h, harmful K_h and the mean score (the allocation's guess)."""
    cuts = np.asarray(quantile_cuts(np.quantile(score, BUDGET_QUANTILES)))
    band = np.searchsorted(cuts, score, side="right")
    big_n = np.bincount(band, minlength=len(cuts) + 1).astype(float)
    positives = np.bincount(band, weights=harmful, minlength=len(cuts) + 1)
    mean = np.bincount(band, weights=score, minlength=len(cuts) + 1) / np.maximum(big_n, 1)
    keep = big_n > 0
    return big_n[keep], positives[keep].astype(int), mean[keep]


def oracle_width_ratio(big_n: np.ndarray, positives: np.ndarray) -> float:
    """Best width ratio to SRS of any allocation over these bands (true p_h, no floors)."""
    weights, p_h = big_n / big_n.sum(), positives / big_n
    p = positives.sum() / big_n.sum()
    return float(np.sum(weights * np.sqrt(p_h * (1 - p_h))) / np.sqrt(p * (1 - p)))


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


def run(items: int, reps: int, kind: str, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    score, harmful = population(items, kind, rng)
    big_n, positives, guess = strata(score, harmful)
    total, harm = np.array([big_n.sum()]), np.array([positives.sum()])

    def srs(budget: int) -> np.ndarray:
        return np.array([budget])

    def neyman(budget: int) -> np.ndarray:
        return neyman_allocation(big_n, guess, budget, noise_limit=NOISE_LIMIT)

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
            "width_ratio_at_srs_budget": float(same_half.mean() / srs_half.mean()),
            "oracle_width_ratio": oracle_width_ratio(big_n, positives),
            "top_band_harm": float(positives[-1] / big_n[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for kind in POPULATIONS:
        start = time.perf_counter()
        r = run(args.items, args.reps, kind, args.seed)
        print(f"{kind}: {args.items:,} items, prevalence {r['prevalence']:.4%},"
              f" {r['strata']} quantile bands (top band {r['top_band_harm']:.0%} harmful),"
              f" {args.reps} repetitions")
        print(f"  labels for ±{MARGIN:.0%} in ≥{ASSURANCE:.0%} of draws: SRS {r['srs_labels']:,},"
              f" Neyman {r['neyman_labels']:,} (ratio {r['ratio']:.2f})")
        print(f"  coverage of the 95% interval: SRS {r['srs_coverage']:.1%},"
              f" Neyman {r['neyman_coverage']:.1%}")
        print(f"  interval width at the SRS budget, Neyman / SRS:"
              f" {r['width_ratio_at_srs_budget']:.2f} (oracle bound over these bands"
              f" {r['oracle_width_ratio']:.2f})  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
