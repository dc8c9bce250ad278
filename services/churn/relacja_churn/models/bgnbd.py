"""BG/NBD: the beta-geometric / negative binomial distribution model.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). Notation of the paper:

    x    repeat transactions in the calibration period
    t_x  time of the last repeat transaction, measured from the first purchase
    T    time from the first purchase to the end of calibration

While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase the
customer dies with probability p ~ Beta(a, b). The individual log-likelihood (paper eq. 6)

    LL = ln Γ(r+x) − ln Γ(r) + r ln α
       + ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x)
       + ln[ (α+T)^−(r+x) + δ(x>0) · a/(b+x−1) · (α+t_x)^−(r+x) ]

is summed with weights (the number of customers sharing the row, see grouping.py) and
maximised over the logarithms of (r, α, a, b), which keeps every parameter positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from .grouping import group_rows

__all__ = [
    "BgNbdParams",
    "conditional_expected_purchases",
    "expected_purchases",
    "fit_bgnbd",
    "log_likelihood",
    "probability_alive",
]


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b])


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    n_customers: int
    n_groups: int
    iterations: int
    converged: bool


def _individual_ll(r: float, alpha: float, a: float, b: float, x, t_x, T) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # For x = 0 the second term is absent; the placeholder keeps logs finite and is masked out.
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def log_likelihood(params: BgNbdParams, x, t_x, T, weights=None) -> float:
    """The summed log-likelihood of the rows (each counted ``weights`` times)."""
    ll = _individual_ll(params.r, params.alpha, params.a, params.b, x, t_x, T)
    if weights is None:
        return float(ll.sum())
    return float(np.dot(ll, weights))


def fit_bgnbd(x, t_x, T, *, initial: BgNbdParams | None = None) -> BgNbdFit:
    """Maximum-likelihood estimates on grouped rows.

    BFGS on the log-parameters does the bulk of the work; Nelder-Mead then polishes from
    its optimum, which is robust where the surface is flat in b (a ridge in (a, b) is
    common when few customers are seen to die).
    """
    groups = group_rows(x, t_x, T)
    gx, gtx, gT = groups.columns
    w = groups.weights
    n = float(w.sum())
    if n == 0:
        raise ValueError("no customers to fit")
    scale = max(float(np.max(gT)), 1e-9)

    def objective(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = -np.dot(_individual_ll(r, alpha, a, b, gx, gtx, gT), w) / n
        return float(value) if np.isfinite(value) else 1e100

    start = np.log(initial.as_array()) if initial else np.log([1.0, scale / 4.0, 1.0, 1.0])
    first = minimize(objective, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
    polish = minimize(
        objective,
        first.x,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 5000, "maxfev": 10000},
    )
    best = polish if polish.fun <= first.fun else first
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    params = BgNbdParams(r, alpha, a, b)
    return BgNbdFit(
        params=params,
        log_likelihood=log_likelihood(params, gx, gtx, gT, w),
        n_customers=int(n),
        n_groups=int(len(w)),
        iterations=int(first.nit) + int(polish.nit),
        converged=bool(first.success or polish.success),
    )


def probability_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) (paper eq. 11 / the 2008 note): one-time buyers are always alive."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    repeat = x > 0
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    odds_dead = np.where(repeat, a / np.where(repeat, b + x - 1, 1.0) * np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    return 1.0 / (1.0 + odds_dead)


def expected_purchases(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)]: purchases in (0, t] of a customer just acquired at time 0 (paper eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def conditional_expected_purchases(params: BgNbdParams, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: purchases in (T, T+t] given the history (paper eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    repeat = x > 0
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    odds_dead = np.where(repeat, a / np.where(repeat, b + x - 1, 1.0) * np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    return head * tail / (1 + odds_dead)
