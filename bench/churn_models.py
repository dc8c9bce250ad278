"""Churn models at scale, without the stack: fit and score 1,000,000 customers.

    uv run --frozen python -m bench.churn_models [--customers 1000000] [--seed 1]

Synthetic customers are drawn from the BG/NBD and Gamma-Gamma processes (parameters near
the CDNOW estimates, a busier buyer population) with first purchases spread over two
years before the calibration end; purchase times are kept to whole days, as the service
stores them. Timed separately:

    fit     BG/NBD + Gamma-Gamma maximum likelihood (grouped rows)        target ≤ 15 s
    score   P(alive), expected purchases (12 months), expected spend,
            discounted 12-month CLV, risk tiers and value bands           target ≤ 5 s
    peak    the process's peak resident memory (simulation included)    target ≤ 2 GB
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from relacja_churn.domain.models.bgnbd import BgNbdParams
from relacja_churn.domain.models.card import fit_models, score
from relacja_churn.domain.models.gamma_gamma import GammaGammaParams
from relacja_churn.domain.models.simulate import simulate_customers
from relacja_churn.domain.models.summary import Summary

from ._stack import load_average

TRUE_BG = BgNbdParams(r=0.6, alpha=8.0, a=0.8, b=2.5)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def synthetic(n: int, seed: int) -> Summary:
    rng = np.random.default_rng(seed)
    T_days = rng.integers(0, 730, n)  # first purchase 0..2 years before the calibration end
    x, t_x, T, m = simulate_customers(n, TRUE_BG, TRUE_GG, T_days / 7.0, seed=seed + 1)
    t_x = np.floor(t_x * 7.0) / 7.0  # whole days
    m = np.round(m, 2)
    empty = np.zeros(n, dtype=np.int64)
    return Summary(np.arange(n), x, t_x, T, m, empty, empty, m * x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    s = synthetic(args.customers, args.seed)
    simulated = time.perf_counter() - started
    print(
        f"simulated {len(s):,} customers in {simulated:.1f} s "
        f"({int((s.x > 0).sum()):,} repeat buyers, {int(s.x.sum()):,} repeat transactions)"
    )

    started = time.perf_counter()
    fitted = fit_models(s)
    fit_seconds = time.perf_counter() - started
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    if gg is None:  # fit_models leaves it out when the data cannot support a fit
        raise SystemExit("the Gamma-Gamma model could not be fitted on this sample: too few repeat buyers?")
    print(
        f"fit    {fit_seconds:6.2f} s  (BG/NBD {fitted.timings['fit_bgnbd_seconds']:.2f} s on {bg.n_groups:,} distinct rows, "
        f"Gamma-Gamma {fitted.timings['fit_gamma_gamma_seconds']:.2f} s)"
    )
    print(
        f"       BG/NBD r={bg.params.r:.3f} alpha={bg.params.alpha:.3f} a={bg.params.a:.3f} b={bg.params.b:.3f} "
        f"(true {TRUE_BG.r}, {TRUE_BG.alpha}, {TRUE_BG.a}, {TRUE_BG.b})"
    )
    print(
        f"       Gamma-Gamma p={gg.params.p:.3f} q={gg.params.q:.3f} gamma={gg.params.gamma:.3f} "
        f"(true {TRUE_GG.p}, {TRUE_GG.q}, {TRUE_GG.gamma})"
    )

    started = time.perf_counter()
    result, _ = score(
        bg.params, gg.params, s.x, s.t_x, s.T, s.monetary, unit="week", horizon_months=12, monthly_discount_rate=0.01
    )
    score_seconds = time.perf_counter() - started
    print(
        f"score  {score_seconds:6.2f} s  (customer equity {result.clv.sum():,.0f}; "
        f"tiers {dict(zip(*np.unique(result.risk_tier, return_counts=True), strict=True))})"
    )

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak   {peak_mb:6.0f} MB resident")
    print(f"load average {load_average()}")
    verdict = fit_seconds <= 15 and score_seconds <= 5 and peak_mb <= 2048
    print("targets (fit ≤ 15 s, score ≤ 5 s, peak ≤ 2 GB):", "met" if verdict else "NOT met")


if __name__ == "__main__":
    main()
