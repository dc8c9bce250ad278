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
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1

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


def _individual_ll(
    r: float, alpha: float, a: float, b: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
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
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4))


def log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """The summed log-likelihood of the rows (each counted ``weights`` times)."""
    ll = _individual_ll(params.r, params.alpha, params.a, params.b, x, t_x, T)
    if weights is None:
        return float(ll.sum())
    return float(np.dot(ll, weights))


class _Objective:
    """−LL/N and its gradient in the log-parameters, on grouped rows.

    Terms that depend on x alone (the Γ functions) are evaluated once per distinct x and
    weighted by the number of customers with that x; only the last term of the
    likelihood is evaluated per row. The gradient is analytic, so BFGS needs a few dozen
    evaluations instead of the hundreds a derivative-free search takes.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        self.ux, ix = np.unique(x, return_inverse=True)
        self.Wx = np.bincount(ix, weights=w)
        self.N = float(w.sum())
        repeat = x > 0
        self.w0, self.T0 = w[~repeat], T[~repeat]
        self.w1, self.x1, self.tx1, self.T1 = w[repeat], x[repeat], t_x[repeat], T[repeat]

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        ux, Wx, N = self.ux, self.Wx, self.N
        # x-level terms
        ll = (
            np.dot(Wx, gammaln(r + ux))
            - N * gammaln(r)
            + N * r * np.log(alpha)
            + N * gammaln(a + b)
            + np.dot(Wx, gammaln(b + ux))
            - N * gammaln(b)
            - np.dot(Wx, gammaln(a + b + ux))
        )
        d_r = np.dot(Wx, digamma(r + ux)) - N * digamma(r) + N * np.log(alpha)
        d_alpha = N * r / alpha
        d_a = N * digamma(a + b) - np.dot(Wx, digamma(a + b + ux))
        d_b = N * digamma(a + b) + np.dot(Wx, digamma(b + ux)) - N * digamma(b) - np.dot(Wx, digamma(a + b + ux))
        # one-time buyers: the last term is −r ln(α+T)
        log_T0 = np.log(alpha + self.T0)
        ll -= r * np.dot(self.w0, log_T0)
        d_r -= np.dot(self.w0, log_T0)
        d_alpha -= r * np.dot(self.w0, 1.0 / (alpha + self.T0))
        # repeat buyers: ln[exp(A3) + exp(A4)]
        x, w = self.x1, self.w1
        log_T, log_tx = np.log(alpha + self.T1), np.log(alpha + self.tx1)
        a3 = -(r + x) * log_T
        a4 = np.log(a) - np.log(b + x - 1) - (r + x) * log_tx
        last = np.logaddexp(a3, a4)
        w4 = np.exp(a4 - last)
        w3 = 1.0 - w4
        ll += np.dot(w, last)
        d_r -= np.dot(w, w3 * log_T + w4 * log_tx)
        d_alpha -= np.dot(w, (r + x) * (w3 / (alpha + self.T1) + w4 / (alpha + self.tx1)))
        d_a += np.dot(w, w4) / a
        d_b -= np.dot(w, w4 / (b + x - 1))
        gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        if not np.isfinite(ll) or not np.all(np.isfinite(gradient)):
            return 1e100, np.zeros(4)
        return float(-ll / N), -gradient / N


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, initial: BgNbdParams | None = None) -> BgNbdFit:
    """Maximum-likelihood estimates on grouped rows: BFGS with the analytic gradient on
    the log-parameters (which keeps every parameter positive)."""
    groups = group_rows(x, t_x, T)
    gx, gtx, gT = groups.columns
    w = groups.weights
    n = float(w.sum())
    if n == 0:
        raise ValueError("no customers to fit")
    objective = _Objective(gx, gtx, gT, w)
    scale = max(float(np.max(gT)), 1e-9)
    start = np.log(initial.as_array()) if initial else np.log([1.0, scale / 4.0, 1.0, 1.0])
    best = minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 1000})
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    params = BgNbdParams(r, alpha, a, b)
    return BgNbdFit(
        params=params,
        log_likelihood=log_likelihood(params, gx, gtx, gT, w),
        n_customers=int(n),
        n_groups=len(w),
        iterations=int(best.nit),
        converged=bool(best.success or np.max(np.abs(best.jac)) < 1e-6),
    )


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(alive | x, t_x, T) (paper eq. 11 / the 2008 note): one-time buyers are always alive."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    repeat = x > 0
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    odds_dead = np.where(repeat, a / np.where(repeat, b + x - 1, 1.0) * np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    return np.asarray(1.0 / (1.0 + odds_dead))


def expected_purchases(params: BgNbdParams, t: ArrayLike) -> np.ndarray:
    """E[X(t)]: purchases in (0, t] of a customer just acquired at time 0 (paper eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    return np.asarray((a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z)))


def conditional_expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: purchases in (T, T+t] given the history (paper eq. 10).

    E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
                          / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
    """
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    return np.asarray(purchase_weight(params, x, t_x, T) * horizon_tail(params, t, x, T))


def purchase_weight(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """The factor of eq. 10 that does not depend on the horizon: (a+b+x−1)/(a−1) · P(alive)."""
    x = np.asarray(x, dtype=np.float64)
    return np.asarray((params.a + params.b + x - 1) / (params.a - 1) * probability_alive(params, x, t_x, T))


def horizon_tail(params: BgNbdParams, t: ArrayLike, x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """The bracket of eq. 10. It depends on (x, T) only, so on many rows the Gauss
    hypergeometric function (the costly part) is evaluated once per distinct (x, T)."""
    x = np.asarray(x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if np.ndim(t) == 0 and x.ndim == 1 and x.size > 256:
        groups = group_rows(x, T)
        gx, gT = groups.columns
        return groups.expand(_tail(params, float(np.asarray(t)), gx, gT))
    return _tail(params, t, x, T)


def _tail(params: BgNbdParams, t: ArrayLike, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + T + t)
    return np.asarray(1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
