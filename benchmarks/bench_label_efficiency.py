"""Labels needed for a ±1-point interval on prevalence: simple random sampling vs a budget plan.

Three simulated LAION-like populations (10M items by default, harm rate ≈ 0.5 %):

- **weak score**: latent ~ N(−6.6, 1.6), harmful ~ Bernoulli(expit(latent)),
  score = expit(latent + N(0, 1)) — harm probability rises with the score but stays
  ≪ 1 even at the top (~15 % in the top 0.1 % of the score);
- **noise score**: the same scores permuted, so they say nothing about harm;
- **sharp score**: z ~ N(0, 1), harmful ~ Bernoulli(expit(−11.16 + 3.91·z)) (calibrated
  to 0.5 % overall and 85 % in the top 0.1 % of z, like LAION's NSFW tag: ~90 % harmful
  at NSFW), score = expit(−6.6 + 1.6·(z + N(0, 0.5))) — harm rises steeply to
  near-certainty at the top of the score.

The design is what ``reviewer sample --budget B --target prevalence --using SCORE`` draws:
the band set among :data:`reviewer.stats.allocation.CANDIDATE_QUANTILES` and the labels
per band that predict the narrowest printed interval from each band's mean score, guarded
against a noise score (:func:`reviewer.stats.allocation.choose_bands`). For each design we
find the smallest budget whose printed interval (the Korn–Graubard interval ``reviewer
stats`` prints) is within ±1 point in ≥ 95 % of seeded repetitions, report coverage over
≥ 500 repetitions at that budget and at the SRS budget, and the interval width at the SRS
budget. Beside it, three bounds on that width ratio, none reachable by a real plan:

- *floor bound*: the same chooser given the true band rates (the best this interval allows
  over these band sets: it never lets a band's variance fall below its add-half floor);
- *Neyman bound*: Neyman with the true rates over the chosen bands, no floor, normal
  approximation: Σ W_h S_h / sqrt(p(1 − p));
- *any-design bound*: E[sqrt(m(1 − m))] / sqrt(p(1 − p)) with m = P(harm | score), the
  variance of the best unbiased design on the continuous score (Godambe's bound, what
  infinitely many bands with the true rates and no floor would give), by Gauss–Hermite.

Both sides run the same estimator (:func:`reviewer.stats.design.ratio_arrays`) on
draws vectorised over repetitions (no Python loop over items or repetitions); SRS is
the one-stratum design.

    python benchmarks/bench_label_efficiency.py [--items 10000000] [--reps 500]
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any

import numpy as np
from scipy.special import expit

from reviewer.stats.allocation import CANDIDATE_QUANTILES, choose_bands, quantile_cuts
from reviewer.stats.design import StratumSums, ratio_arrays

MARGIN = 0.01
ASSURANCE = 0.95
POPULATIONS = ("weak score", "noise score", "sharp score")
LATENT = {"weak score": (-6.6, 1.6, 1.0), "sharp score": (-11.16, 3.91, 3.91 * 0.5)}
"""Harm logit = mean + sd·Z, seen by the score through extra noise of this sd (logit units)."""


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


def candidate_strata(score: np.ndarray, harmful: np.ndarray):  # type: ignore[no-untyped-def]
    """Per candidate band set: (N_h, harmful K_h, mean score) of each non-empty band.

    As ``reviewer sample --budget`` does it: the quantiles once, items counted per finest
    band once, every candidate's bands regrouped from those counts.
    """
    levels = sorted({q for candidate in CANDIDATE_QUANTILES for q in candidate})
    value = dict(zip(levels, np.quantile(score, levels), strict=True))
    finest = np.asarray(quantile_cuts(list(value.values())))
    band = np.searchsorted(finest, score, side="right")
    size = len(finest) + 1
    count = np.bincount(band, minlength=size).astype(float)
    positives = np.bincount(band, weights=harmful, minlength=size)
    total = np.bincount(band, weights=score, minlength=size)
    lower = np.concatenate([[0.0], finest])
    out = []
    for level in CANDIDATE_QUANTILES:
        cuts = np.asarray(quantile_cuts([value[q] for q in level]))
        coarse = np.searchsorted(cuts, lower, side="right")
        big_n = np.bincount(coarse, weights=count, minlength=len(cuts) + 1)
        keep = big_n > 0
        k = np.bincount(coarse, weights=positives, minlength=len(cuts) + 1)[keep]
        mean = np.bincount(coarse, weights=total, minlength=len(cuts) + 1)[keep] / big_n[keep]
        out.append((big_n[keep], np.rint(k).astype(int), mean))
    return out


def neyman_bound(big_n: np.ndarray, positives: np.ndarray) -> float:
    """Width ratio to SRS of Neyman with the true rates over these bands (no floor)."""
    weights, p_h = big_n / big_n.sum(), positives / big_n
    p = positives.sum() / big_n.sum()
    return float(np.sum(weights * np.sqrt(p_h * (1 - p_h))) / np.sqrt(p * (1 - p)))


def any_design_bound(kind: str) -> float:
    """E[sqrt(m(1 − m))] / sqrt(p(1 − p)), m(t) = P(harm | score t), by Gauss–Hermite.

    Harm logit L = μ + σZ; the score is a monotone function of t = L + τε, so m(t) =
    E[expit(L) | t] with L | t normal (mean μ + k(t − μ), variance σ²(1 − k), k = σ²/(σ² + τ²)).
    A noise score says nothing: m = p and the bound is 1.
    """
    if kind not in LATENT:
        return 1.0
    mu, sigma, tau = LATENT[kind]
    nodes, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    spread = np.sqrt(sigma**2 + tau**2)
    t = mu + spread * nodes
    k = sigma**2 / spread**2
    posterior = (mu + k * (t - mu))[:, None] + np.sqrt(sigma**2 * (1 - k)) * nodes[None, :]
    m = expit(posterior) @ w
    p = float(w @ m)
    return float((w @ np.sqrt(m * (1 - m))) / np.sqrt(p * (1 - p)))


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


def needed(design, reps, seed):  # type: ignore[no-untyped-def]
    """Smallest budget whose interval is within ±MARGIN in ≥ ASSURANCE of the draws;
    ``design(budget)`` gives (N_h, K_h, labels per band)."""
    def ok(budget: int) -> bool:
        half, _ = simulate(*design(budget), reps, np.random.default_rng(seed))
        return float(np.mean(half <= MARGIN)) >= ASSURANCE

    low, high = 40, 80  # above the 2 labels per band every design needs
    while not ok(high):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def run(items: int, reps: int, kind: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    score, harmful = population(items, kind, rng)
    candidates = candidate_strata(score, harmful)
    total, harm = np.array([float(items)]), np.array([int(harmful.sum())])

    def srs(budget: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return total, harm, np.array([budget])

    @functools.cache
    def plan(budget: int, oracle: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        guesses = [(n, k / n if oracle else mean) for n, k, mean in candidates]
        best, labels = choose_bands(guesses, budget)
        return candidates[best][0], candidates[best][1], labels

    srs_n = needed(srs, reps, seed + 1)
    ours_n = needed(plan, reps, seed + 1)
    srs_half, srs_cover = simulate(*srs(srs_n), reps, np.random.default_rng(seed + 2))
    _, ours_cover = simulate(*plan(ours_n), reps, np.random.default_rng(seed + 2))
    same_half, same_cover = simulate(*plan(srs_n), reps, np.random.default_rng(seed + 3))
    floor_half, _ = simulate(*plan(srs_n, oracle=True), reps, np.random.default_rng(seed + 3))
    big_n, positives, labels = plan(srs_n)
    return {"prevalence": float(harm[0] / total[0]), "strata": len(big_n),
            "labels_per_band": "/".join(str(int(n)) for n in labels),
            "srs_labels": srs_n, "design_labels": ours_n, "ratio": ours_n / srs_n,
            "srs_coverage": float(srs_cover.mean()), "design_coverage": float(ours_cover.mean()),
            "coverage_at_srs_budget": float(same_cover.mean()),
            "width_ratio_at_srs_budget": float(same_half.mean() / srs_half.mean()),
            "floor_bound": float(floor_half.mean() / srs_half.mean()),
            "neyman_bound": neyman_bound(big_n, positives),
            "any_design_bound": any_design_bound(kind),
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
              f" {args.reps} repetitions; chosen at the SRS budget: {r['strata']} bands"
              f" (labels {r['labels_per_band']}; top band {r['top_band_harm']:.0%} harmful)")
        print(f"  labels for ±{MARGIN:.0%} in ≥{ASSURANCE:.0%} of draws: SRS {r['srs_labels']:,},"
              f" budget plan {r['design_labels']:,} (ratio {r['ratio']:.2f})")
        print(f"  coverage of the 95% interval: SRS {r['srs_coverage']:.1%}, budget plan"
              f" {r['design_coverage']:.1%} (at the SRS budget {r['coverage_at_srs_budget']:.1%})")
        print(f"  interval width at the SRS budget, plan / SRS:"
              f" {r['width_ratio_at_srs_budget']:.2f}"
              f"  (bounds: floor {r['floor_bound']:.2f}, Neyman {r['neyman_bound']:.2f},"
              f" any design {r['any_design_bound']:.2f})  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
