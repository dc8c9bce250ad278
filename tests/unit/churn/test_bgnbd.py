"""BG/NBD likelihood and scoring formulas, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from relacja_churn.domain.models.bgnbd import (
    BgNbdParams,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    log_likelihood,
    probability_alive,
)
from relacja_churn.domain.models.simulate import simulate_customers

PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def paper_likelihood(p: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """FHL (2005) eq. 6 in its Beta/Gamma-function form (no logs, no shared code)."""
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    common = special.gamma(r + x) * alpha**r / special.gamma(r)
    value = special.beta(a, b + x) / special.beta(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        value += special.beta(a + 1, b + x - 1) / special.beta(a, b) * common / (alpha + t_x) ** (r + x)
    return value


def integrated_likelihood(p: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """The individual likelihood integrated over λ ~ Gamma(r, α) and p ~ Beta(a, b) numerically."""

    def individual(lam: float, drop: float) -> float:
        alive = (1 - drop) ** x * lam**x * np.exp(-lam * T)
        died = drop * (1 - drop) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0
        return (alive + died) * stats.gamma.pdf(lam, p.r, scale=1 / p.alpha) * stats.beta.pdf(drop, p.a, p.b)

    value, _ = integrate.dblquad(individual, 0, 1, 0, 50, epsabs=1e-10, epsrel=1e-8)
    return value


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (1, 1.71, 38.86), (4, 20.0, 30.0), (12, 35.5, 36.0)])
def test_log_likelihood_matches_the_papers_closed_form(x, t_x, T) -> None:
    assert log_likelihood(PARAMS, [x], [t_x], [T]) == pytest.approx(
        np.log(paper_likelihood(PARAMS, x, t_x, T)), rel=1e-10
    )


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 10.0), (2, 5.0, 10.0)])
def test_log_likelihood_matches_numerical_integration_of_the_process(x, t_x, T) -> None:
    p = BgNbdParams(r=2.0, alpha=3.0, a=1.5, b=4.0)  # a smooth density, so quadrature is accurate
    assert np.exp(log_likelihood(p, [x], [t_x], [T])) == pytest.approx(integrated_likelihood(p, x, t_x, T), rel=1e-6)


def test_weights_count_rows() -> None:
    x, t_x, T = np.array([0, 3, 3]), np.array([0, 5.0, 5.0]), np.array([10, 10, 10.0])
    grouped = log_likelihood(PARAMS, [0, 3], [0, 5.0], [10, 10.0], weights=np.array([1, 2.0]))
    assert grouped == pytest.approx(log_likelihood(PARAMS, x, t_x, T))


def test_probability_alive_formula_and_limits() -> None:
    r, alpha, a, b = PARAMS.r, PARAMS.alpha, PARAMS.a, PARAMS.b
    x, t_x, T = 3, 10.0, 30.0
    by_hand = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert probability_alive(PARAMS, [x], [t_x], [T])[0] == pytest.approx(by_hand, rel=1e-12)
    assert probability_alive(PARAMS, [0], [0], [500.0])[0] == 1.0  # no repeat purchase: cannot have died
    assert probability_alive(PARAMS, [3], [30.0], [30.0])[0] > probability_alive(PARAMS, [3], [10.0], [30.0])[0]
    assert probability_alive(PARAMS, [5], [1.0], [1e6])[0] < 1e-6  # long silence after activity → dead


def test_unconditional_expectation_is_zero_at_zero_and_matches_the_paper_form() -> None:
    assert expected_purchases(PARAMS, 0.0) == pytest.approx(0.0, abs=1e-12)
    t = 39.0
    r, alpha, a, b = PARAMS.r, PARAMS.alpha, PARAMS.a, PARAMS.b
    z = t / (alpha + t)
    by_hand = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    assert expected_purchases(PARAMS, t) == pytest.approx(by_hand)


def test_conditional_expectation_of_a_brand_new_customer_is_the_unconditional_one() -> None:
    for t in (1.0, 13.0, 52.0):
        assert conditional_expected_purchases(PARAMS, t, [0], [0.0], [0.0])[0] == pytest.approx(
            float(expected_purchases(PARAMS, t)), rel=1e-10
        )


def test_expectations_agree_with_simulation() -> None:
    p = BgNbdParams(r=0.8, alpha=5.0, a=0.7, b=2.5)
    x, _, _, _ = simulate_customers(200_000, p, None, T=26.0, seed=7)
    assert x.mean() == pytest.approx(float(expected_purchases(p, 26.0)), rel=0.02)


def test_conditional_expectation_grows_with_frequency_and_is_zero_for_zero_horizon() -> None:
    values = conditional_expected_purchases(PARAMS, 52.0, [1, 2, 4, 8], [30.0] * 4, [38.0] * 4)
    assert np.all(np.diff(values) > 0)
    assert conditional_expected_purchases(PARAMS, 0.0, [3], [10.0], [30.0])[0] == pytest.approx(0.0, abs=1e-12)


def test_fit_recovers_the_parameters_of_simulated_data() -> None:
    truth = BgNbdParams(r=0.5, alpha=6.0, a=0.6, b=2.0)
    T = np.random.default_rng(3).uniform(20, 80, 30_000)
    x, t_x, T, _ = simulate_customers(30_000, truth, None, T, seed=11)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.params.r == pytest.approx(truth.r, rel=0.1)
    assert fit.params.alpha == pytest.approx(truth.alpha, rel=0.1)
    assert fit.params.a == pytest.approx(truth.a, rel=0.25)
    assert fit.params.b == pytest.approx(truth.b, rel=0.3)
    assert fit.n_customers == 30_000
    # The optimum is a maximum: nudging any parameter lowers the likelihood.
    best = fit.log_likelihood
    for field in ("r", "alpha", "a", "b"):
        nudged = BgNbdParams(**{**fit.params.__dict__, field: getattr(fit.params, field) * 1.01})
        assert log_likelihood(nudged, x, t_x, T) < best


def test_fit_refuses_an_empty_population() -> None:
    with pytest.raises(ValueError):
        fit_bgnbd([], [], [])


def test_analytic_gradient_matches_finite_differences() -> None:
    from relacja_churn.domain.models.bgnbd import _Objective

    x, t_x, T, _ = simulate_customers(3_000, BgNbdParams(r=0.7, alpha=5.0, a=0.8, b=2.2), None, T=30.0, seed=2)
    objective = _Objective(x, t_x, T, np.ones(len(x)))
    point = np.log([0.5, 4.0, 0.9, 2.0])
    value, gradient = objective(point)
    assert value == pytest.approx(-log_likelihood(BgNbdParams(*np.exp(point)), x, t_x, T) / len(x), rel=1e-12)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (objective(point + step)[0] - objective(point - step)[0]) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
