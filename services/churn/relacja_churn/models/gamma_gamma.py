"""Gamma-Gamma model of monetary value (Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value"; Colombo & Jiang 1999).

Each transaction value of a customer is Gamma(p, ν); the customer's ν ~ Gamma(q, γ). It is
fitted on repeat buyers only, on x = number of repeat transactions and m = their mean
value (the first purchase is excluded: it is often different in kind). The log-density of
the observed mean m̄ given x (the note's eq. 3, written for the mean):

    LL = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x − (px+q) ln(γ + x m̄)

E[M | x, m̄] = (q−1)/(px+q−1) · γp/(q−1) + px/(px+q−1) · m̄  (a weighted mean of the
population mean γp/(q−1) and the customer's own mean; q > 1 is needed for it to exist).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from .grouping import group_rows

__all__ = ["GammaGammaFit", "GammaGammaParams", "conditional_expected_spend", "fit_gamma_gamma", "log_likelihood"]


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    @property
    def population_mean(self) -> float:
        """E[M] = γp/(q−1); infinite when q ≤ 1."""
        return self.gamma * self.p / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    n_customers: int
    iterations: int
    converged: bool


def _individual_ll(p: float, q: float, gamma: float, x, m) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(gamma + x * m)
    )


def log_likelihood(params: GammaGammaParams, x, m, weights=None) -> float:
    ll = _individual_ll(params.p, params.q, params.gamma, x, m)
    return float(ll.sum() if weights is None else np.dot(ll, weights))


def fit_gamma_gamma(x, m) -> GammaGammaFit:
    """Maximum likelihood on repeat buyers (rows with x > 0 and m > 0; others are ignored)."""
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    keep = (x > 0) & (m > 0)
    groups = group_rows(x[keep], m[keep])
    gx, gm = groups.columns
    w = groups.weights
    n = float(w.sum())
    if n < 3:
        raise ValueError("the spend model needs at least three repeat buyers with positive spend")

    def objective(log_params: np.ndarray) -> float:
        p, q, gamma = np.exp(log_params)
        value = -np.dot(_individual_ll(p, q, gamma, gx, gm), w) / n
        return float(value) if np.isfinite(value) else 1e100

    mean = float(np.dot(gm, w) / n)
    start = np.log([2.0, 2.0, max(mean, 1e-6)])
    first = minimize(objective, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
    polish = minimize(
        objective, first.x, method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 5000, "maxfev": 10000},
    )
    best = polish if polish.fun <= first.fun else first
    p, q, gamma = (float(v) for v in np.exp(best.x))
    params = GammaGammaParams(p, q, gamma)
    return GammaGammaFit(
        params=params,
        log_likelihood=log_likelihood(params, gx, gm, w),
        n_customers=int(n),
        iterations=int(first.nit) + int(polish.nit),
        converged=bool(first.success or polish.success),
    )


def conditional_expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[M | x, m̄]; for x = 0 (no repeat spend observed) the population mean γp/(q−1)."""
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=np.float64)
    m = np.where(np.asarray(x) > 0, np.asarray(m, dtype=np.float64), 0.0)
    px = p * x
    return (q - 1) / (px + q - 1) * (gamma * p / (q - 1)) + px / (px + q - 1) * m
