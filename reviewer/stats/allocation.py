"""How to spend a label budget: score bands and labels per band for the interval ``stats`` prints.

``reviewer sample --budget B --target T --using SCORE`` cuts the score into bands and
gives each band some of the B labels. Classical Neyman allocation (n_h ∝ N_h S_h)
minimises the variance of the *true* stratum rates; but the interval ``reviewer stats``
prints (:mod:`reviewer.stats.design`) never lets a band's variance fall below its
add-half binomial floor p̃(1 − p̃), p̃ = (k + ½)/(n + 1) — a band whose labels are all
0 still says "the rate could be up to about 1/n". With rare harm that floor, not the
true rate, decides the width: on the benchmark's sharp-score population Neyman with
the *true* band rates over nine quantile bands reaches only 0.75× SRS's width, because
every big low-harm band must be labelled enough to prove it is low. So here:

* each band's labels are chosen to minimise the variance ``stats`` will compute, floor
  included, at the band's guessed rate (:func:`predicted_variance`, :func:`interval_allocation`);
* the band cuts are chosen among :data:`CANDIDATE_QUANTILES` by that same predicted
  variance (:func:`choose_bands`): few wide bands where harm is rare, fine bands where it
  is common, fewer bands for small budgets;
* the shares are mixed with proportional allocation so that a score that turns out to be
  noise costs at most :data:`NOISE_LIMIT` times SRS's labels (:func:`guarded_shares`).

Written with numpy and scipy's root finder: the objective is this project's own
estimator (no library allocates for it); ``benchmarks/bench_label_efficiency.py``
measures the result and ``tests/stats/audit/test_budget.py`` checks the allocation
against a brute-force search written in the test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reviewer.errors import ReviewerError

NOISE_LIMIT = 1.04
"""Most variance a budget plan may have, relative to SRS at the same budget, if its score
turns out to be noise (issue 11: "never worse than SRS by more than 5 % when the score is
noise"). 1.04, not 1.05: the labels needed for ±1 point in 95 % of draws run about a
point above the variance ratio (benchmarks/bench_label_efficiency.py: 1.044 at 1.04,
1.06 at 1.05; the sharp score's width 0.69× at 1.04, 0.71× at 1.03)."""

GUESS_RANGE = (0.001, 0.999)
"""Band rate guesses are clipped here, so a band the score calls certain still gets labels."""

CANDIDATE_QUANTILES: tuple[tuple[float, ...], ...] = (
    (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999),
    (0.8, 0.95, 0.99, 0.999),
    (0.9, 0.97, 0.99, 0.997, 0.999),
    (0.9, 0.98, 0.995, 0.999),
    (0.9, 0.99, 0.999),
    (0.95, 0.99, 0.998),
    (0.9, 0.99),
    (0.99,),
    (),
)
"""Band cut sets (quantiles of the guiding score over the target's domain) a budget plan
chooses from; ``()`` is one band, i.e. simple random sampling. Wide low bands suit rare
harm and small budgets (the floor of every band costs labels), fine ones large budgets."""


def quantile_cuts(quantiles: Sequence[float]) -> tuple[float, ...]:
    """Band cut points from a score's quantiles: strictly inside (0, 1), distinct as printed.

    A score with few distinct values (or many zeros) yields fewer cuts; none at all
    leaves one band, i.e. simple random sampling.
    """
    cuts = {float(f"{q:.6g}") for q in quantiles}
    return tuple(sorted(c for c in cuts if 0 < c < 1))


def predicted_variance(
    populations: np.ndarray, guesses: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """Per band, the variance contribution ``stats`` will compute for the population share.

    W_h² (1 − n_h/N_h) s²_h / n_h with s²_h = max(p(1 − p)·n/(n − 1), p̃(1 − p̃)),
    p̃ = (n p + ½)/(n + 1): the sample variance and the add-half floor of
    :func:`reviewer.stats.design.ratio_arrays` at k = n·p expected positives.
    """
    big_n = np.asarray(populations, dtype=float)
    p = np.asarray(guesses, dtype=float)
    n = np.maximum(np.asarray(labels, dtype=float), 1.0)
    smooth = (n * p + 0.5) / (n + 1)
    sample = p * (1 - p) * n / np.maximum(n - 1, 1)
    s2 = np.maximum(sample, smooth * (1 - smooth))
    weights = big_n / big_n.sum()
    fpc = np.clip(1 - n / np.maximum(big_n, 1), 0.0, 1.0)
    variance: np.ndarray = weights**2 * fpc * s2 / n
    return variance


def interval_allocation(
    populations: Sequence[float] | np.ndarray, guesses: Sequence[float] | np.ndarray,
    budget: int, minimum: int = 2, noise_limit: float | None = NOISE_LIMIT,
) -> np.ndarray:
    """Labels per band that minimise the variance ``stats`` will compute, summing to the budget.

    Without the floor this is Neyman's n_h ∝ N_h S_h. The objective is separable and each
    band's term falls ever more slowly as labels are added, so the optimum gives every
    band labels until one more saves less than a common threshold λ (marginal analysis,
    Fox 1966); λ is found by bisection. With ``noise_limit`` the shares are then mixed with
    proportional ones (:func:`guarded_shares`). Every band keeps ``minimum`` labels (so its
    variance can be estimated) and at most N_h; the total is exactly the budget (or every item).
    """
    big_n = np.asarray(populations, dtype=float)
    p = np.clip(np.asarray(guesses, dtype=float), *GUESS_RANGE)
    cap = big_n.astype(int)
    floor = np.minimum(cap, minimum)
    budget = int(min(budget, cap.sum()))
    if floor.sum() > budget:
        raise ReviewerError(
            f"--budget {budget}: fewer labels than strata need ({int(floor.sum())}:"
            f" {minimum} each)",
            "raise --budget or use fewer score bands",
        )
    share = _marginal_allocation(big_n, p, floor, cap, budget).astype(float)
    if noise_limit is not None:
        share = guarded_shares(big_n, share, noise_limit)[0]
    return _integerise(share, floor, cap, budget)


def _marginal_allocation(
    big_n: np.ndarray, p: np.ndarray, floor: np.ndarray, cap: np.ndarray, budget: int
) -> np.ndarray:
    """Labels per band where one more label would save less than λ, λ set to meet the budget."""

    def gain(n: np.ndarray) -> np.ndarray:
        saved: np.ndarray = predicted_variance(big_n, p, n) - predicted_variance(big_n, p, n + 1)
        return saved

    def labels_at(lam: float) -> np.ndarray:
        low, high = floor.astype(float), cap.astype(float)  # gain(n) ≥ λ holds below the answer
        for _ in range(64):
            mid = np.floor((low + high) / 2)
            more = gain(mid) >= lam
            low, high = np.where(more, mid + 1, low), np.where(more, high, mid)
            if np.all(high - low < 1):
                break
        labels: np.ndarray = np.minimum(np.maximum(low, floor), cap).astype(int)
        return labels

    # λ spans many orders of magnitude: bisect its logarithm. hi: nobody gets more than
    # the floor; lo: (almost) every band takes all its items.
    hi = float(gain(floor.astype(float)).max()) * 2 + 1e-300
    lo = hi * 1e-40
    for _ in range(80):
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if labels_at(mid).sum() > budget else (lo, mid)
    n = labels_at(hi)
    left = budget - int(n.sum())  # ties at λ: the next labels to the largest gains
    if left > 0:
        order = np.argsort(-np.where(n < cap, gain(n.astype(float)), -np.inf))
        n[order[:left]] += 1
    return n


def _integerise(share: np.ndarray, floor: np.ndarray, cap: np.ndarray, budget: int) -> np.ndarray:
    """Whole labels closest to ``budget × share``: each between its floor and cap, summing to
    the budget (largest remainders; labels a capped band cannot take go to the others)."""
    ideal = budget * share / share.sum() if share.sum() > 0 else budget * cap / cap.sum()
    n = np.clip(np.floor(ideal).astype(int), floor, cap)
    while n.sum() > budget:  # floors pushed it over: take from the furthest above ideal
        i = int(np.argmax(np.where(n > floor, n - ideal, -np.inf)))
        n[i] -= 1
    while n.sum() < budget:
        open_ = n < cap
        left = budget - int(n.sum())
        room = np.where(open_, np.maximum(ideal - n, 0.0), 0.0)
        if room.sum() <= 0:
            room = np.where(open_, share + 1e-12, 0.0)
        add = np.minimum(np.floor(left * room / room.sum()).astype(int), cap - n)
        if add.sum() == 0:  # largest remainder: one more to the bands furthest below ideal
            order = np.argsort(-(ideal - n) - open_ * 1e9)
            for i in order[:left]:
                if n[i] < cap[i]:
                    n[i] += 1
            continue
        n = n + add
    allocated: np.ndarray = n
    return allocated


def guarded_shares(
    populations: np.ndarray, shares: np.ndarray, limit: float = NOISE_LIMIT
) -> tuple[np.ndarray, float]:
    """Label shares w = (1 − λ)·W + λ·V between proportional W and the given V; and λ.

    If the score is noise, every band has the same harm rate p, and a stratified
    estimate with shares w has variance p(1 − p)/n · Σ W_h²/w_h (Cochran 1977, 5.6), i.e.
    needs Σ W_h²/w_h times the labels of SRS. That factor grows with λ (0: proportional,
    exactly 1), so the largest λ with factor ≤ ``limit`` keeps as much of the allocation's
    gain as the guarantee allows. λ is found by scipy's ``brentq`` root finder.
    """
    from scipy.optimize import brentq

    weights = populations / populations.sum()
    target = shares / shares.sum() if shares.sum() > 0 else weights

    def excess(lam: float) -> float:
        mixed = (1 - lam) * weights + lam * target
        return float(np.sum(np.divide(weights**2, mixed, where=mixed > 0,
                                      out=np.zeros_like(mixed)))) - limit

    lam = 1.0 if excess(1.0) <= 0 else float(brentq(excess, 0.0, 1.0))
    return (1 - lam) * weights + lam * target, lam


def choose_bands(
    candidates: Sequence[tuple[np.ndarray, np.ndarray]], budget: int, minimum: int = 2
) -> tuple[int, np.ndarray]:
    """The candidate band set (N_h, guessed rate per band) whose allocation predicts the
    narrowest interval, and that allocation.

    Candidates whose bands cannot all get ``minimum`` labels are skipped; a candidate
    with one band (simple random sampling) always fits a budget of ``minimum``.
    """
    best: tuple[float, int, np.ndarray] | None = None
    for index, (big_n, guesses) in enumerate(candidates):
        if minimum * len(big_n) > budget and len(big_n) > 1:
            continue
        labels = interval_allocation(big_n, guesses, budget, minimum)
        variance = float(predicted_variance(
            big_n, np.clip(guesses, *GUESS_RANGE), labels).sum())
        if best is None or variance < best[0] - 1e-15:
            best = (variance, index, labels)
    if best is None:
        raise ReviewerError(f"--budget {budget}: too small for any band set",
                            f"give at least {minimum} labels")
    return best[1], best[2]
