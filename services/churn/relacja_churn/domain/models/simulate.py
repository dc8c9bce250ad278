"""Draw synthetic customers from the BG/NBD and Gamma-Gamma processes.

Used by tests (does the fit recover known parameters?) and by the benchmark. Each
customer's first purchase is at time 0 of their own clock and they are observed for T:

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); repeat purchases arrive at Poisson rate λ and
    after each repeat purchase the customer drops out with probability p;
    ν ~ Gamma(q, rate γ); each repeat transaction is worth Gamma(p_gg, rate ν), so the mean
    of x of them is Gamma(p_gg·x, rate ν·x).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .bgnbd import BgNbdParams
from .gamma_gamma import GammaGammaParams

__all__ = ["simulate_customers"]


def simulate_customers(
    n: int, bg: BgNbdParams, gg: GammaGammaParams | None, T: ArrayLike, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T, mean repeat value) for n customers; ``T`` is a scalar or n values."""
    rng = np.random.default_rng(seed)
    times = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(bg.r, 1.0 / bg.alpha, n)
    drop = rng.beta(bg.a, bg.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    clock = np.zeros(n)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / np.maximum(lam[active], 1e-300)
        bought = clock[active] <= times[active]
        buyers = active[bought]
        x[buyers] += 1
        t_x[buyers] = clock[buyers]
        survives = rng.random(buyers.size) >= drop[buyers]
        active = buyers[survives]
    monetary = np.zeros(n)
    if gg is not None:
        nu = rng.gamma(gg.q, 1.0 / gg.gamma, n)
        repeat = x > 0
        monetary[repeat] = rng.gamma(gg.p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return x, t_x, times, monetary
