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
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

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


def _individual_ll(p: float, q: float, gamma: float, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * m)
    )


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> float:
    ll = _individual_ll(params.p, params.q, params.gamma, x, m)
    return float(ll.sum() if weights is None else np.dot(ll, weights))


class _Objective:
    """−LL/N and its analytic gradient in (ln p, ln q, ln γ); the Γ terms once per distinct x."""

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.ux, ix = np.unique(x, return_inverse=True)
        self.Wx = np.bincount(ix, weights=w)
        self.N = float(w.sum())
        self.x, self.w = x, w
        self.xm = x * m
        self.sum_x_log_mx = float(np.dot(w, x * (np.log(m) + np.log(x))))  # Σ w·x·(ln m + ln x)
        self.sum_log_m = float(np.dot(w, np.log(m)))

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(log_params)
        ux, Wx, N, x, w = self.ux, self.Wx, self.N, self.x, self.w
        log_total = np.log(gamma + self.xm)
        px = p * ux
        ll = (
            np.dot(Wx, gammaln(px + q) - gammaln(px))
            - N * gammaln(q)
            + N * q * np.log(gamma)
            + p * self.sum_x_log_mx
            - self.sum_log_m
            - np.dot(w, (p * x + q) * log_total)
        )
        d_p = np.dot(Wx, ux * (digamma(px + q) - digamma(px))) + self.sum_x_log_mx - np.dot(w, x * log_total)
        d_q = np.dot(Wx, digamma(px + q)) - N * digamma(q) + N * np.log(gamma) - np.dot(w, log_total)
        d_gamma = N * q / gamma - np.dot(w, (p * x + q) / (gamma + self.xm))
        gradient = np.array([d_p * p, d_q * q, d_gamma * gamma])
        if not np.isfinite(ll) or not np.all(np.isfinite(gradient)):
            return 1e100, np.zeros(3)
        return float(-ll / N), -gradient / N


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike) -> GammaGammaFit:
    """Maximum likelihood on repeat buyers (rows with x > 0 and m > 0; others are ignored):
    BFGS with the analytic gradient on the log-parameters."""
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    keep = (x > 0) & (m > 0)
    groups = group_rows(x[keep], m[keep])
    gx, gm = groups.columns
    w = groups.weights
    n = float(w.sum())
    if n < 3:
        raise ValueError("the spend model needs at least three repeat buyers with positive spend")
    objective = _Objective(gx, gm, w)
    mean = float(np.dot(gm, w) / n)
    start = np.log([2.0, 2.0, max(mean, 1e-6)])
    best = minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 1000})
    p, q, gamma = (float(v) for v in np.exp(best.x))
    params = GammaGammaParams(p, q, gamma)
    return GammaGammaFit(
        params=params,
        log_likelihood=log_likelihood(params, gx, gm, w),
        n_customers=int(n),
        iterations=int(best.nit),
        converged=bool(best.success or np.max(np.abs(best.jac)) < 1e-6),
    )


def conditional_expected_spend(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """E[M | x, m̄]; for x = 0 (no repeat spend observed) the population mean γp/(q−1)."""
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=np.float64)
    m = np.where(np.asarray(x) > 0, np.asarray(m, dtype=np.float64), 0.0)
    px = p * x
    return np.asarray((q - 1) / (px + q - 1) * (gamma * p / (q - 1)) + px / (px + q - 1) * m)
