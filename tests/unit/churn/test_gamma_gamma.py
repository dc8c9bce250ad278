"""Gamma-Gamma likelihood and expected spend, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from relacja_churn.domain.models.bgnbd import BgNbdParams
from relacja_churn.domain.models.gamma_gamma import (
    GammaGammaParams,
    conditional_expected_spend,
    fit_gamma_gamma,
    log_likelihood,
)
from relacja_churn.domain.models.simulate import simulate_customers

PARAMS = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def integrated_density(params: GammaGammaParams, x: int, m: float) -> float:
    """Density of the mean of x Gamma(p, ν) values, integrated over ν ~ Gamma(q, γ)."""

    def given_nu(nu: float) -> float:
        return stats.gamma.pdf(m, params.p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
            nu, params.q, scale=1 / params.gamma
        )

    value, _ = integrate.quad(given_nu, 0, np.inf, epsabs=1e-14, limit=200)
    return value


@pytest.mark.parametrize(("x", "m"), [(1, 11.77), (2, 22.35), (7, 40.0)])
def test_log_likelihood_matches_numerical_integration(x, m) -> None:
    assert log_likelihood(PARAMS, [x], [m]) == pytest.approx(np.log(integrated_density(PARAMS, x, m)), rel=1e-7)


def test_expected_spend_is_a_weighted_mean_of_population_and_own_mean() -> None:
    p, q, g = PARAMS.p, PARAMS.q, PARAMS.gamma
    x, m = 3, 40.0
    weight = p * x / (p * x + q - 1)
    by_hand = (1 - weight) * (g * p / (q - 1)) + weight * m
    assert conditional_expected_spend(PARAMS, [x], [m])[0] == pytest.approx(by_hand, rel=1e-12)
    assert conditional_expected_spend(PARAMS, [0], [0.0])[0] == pytest.approx(PARAMS.population_mean)
    assert conditional_expected_spend(PARAMS, [1e7], [40.0])[0] == pytest.approx(40.0, rel=1e-5)


def test_fit_recovers_simulated_spend_parameters() -> None:
    truth = GammaGammaParams(p=4.0, q=5.0, gamma=60.0)
    bg = BgNbdParams(r=2.0, alpha=4.0, a=0.5, b=5.0)
    x, _, _, m = simulate_customers(40_000, bg, truth, T=30.0, seed=5)
    fit = fit_gamma_gamma(x, m)
    assert fit.n_customers == int((x > 0).sum())
    mean_truth, mean_fit = truth.population_mean, fit.params.population_mean
    assert mean_fit == pytest.approx(mean_truth, rel=0.05)
    assert fit.params.p == pytest.approx(truth.p, rel=0.1)


def test_fit_needs_repeat_buyers() -> None:
    with pytest.raises(ValueError):
        fit_gamma_gamma([0, 0, 1], [0, 0, 5.0])


def test_analytic_gradient_matches_finite_differences() -> None:
    from relacja_churn.domain.models.gamma_gamma import _Objective

    x, _, _, m = simulate_customers(3_000, BgNbdParams(r=2.0, alpha=4.0, a=0.5, b=5.0), PARAMS, T=30.0, seed=4)
    keep = x > 0
    objective = _Objective(x[keep], m[keep], np.ones(int(keep.sum())))
    point = np.log([5.0, 3.0, 12.0])
    value, gradient = objective(point)
    assert value == pytest.approx(
        -log_likelihood(GammaGammaParams(*np.exp(point)), x[keep], m[keep]) / keep.sum(), rel=1e-12
    )
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (objective(point + step)[0] - objective(point - step)[0]) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
