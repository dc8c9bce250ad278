"""Summary building, CLV, tiers and bands."""

from __future__ import annotations

import numpy as np
import pytest

from relacja_churn.domain.models.bgnbd import BgNbdParams, conditional_expected_purchases, probability_alive
from relacja_churn.domain.models.card import score
from relacja_churn.domain.models.clv import discounted_clv
from relacja_churn.domain.models.gamma_gamma import GammaGammaParams
from relacja_churn.domain.models.grouping import group_rows
from relacja_churn.domain.models.summary import summarise
from relacja_churn.domain.models.tiers import risk_tiers, value_band_cutoffs, value_bands
from relacja_churn.domain.models.units import units_per_month

BG = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def test_summary_merges_same_day_orders_and_excludes_the_first_purchase_from_spend() -> None:
    # customer 7: day 0 (10 + 5, one transaction), day 14 (20), day 21 (30), day 40 after the end
    customer = [7, 7, 7, 7, 7, 9]
    day = [0, 0, 14, 21, 40, 7]
    amount = [10.0, 5.0, 20.0, 30.0, 99.0, 8.0]
    s = summarise(customer, day, amount, calibration_end_day=28, unit="week")
    assert list(s.customer) == [7, 9]
    assert list(s.x) == [2, 0]
    assert list(s.t_x) == [3.0, 0.0]
    assert list(s.T) == [4.0, 3.0]
    assert list(s.monetary) == [25.0, 0.0]
    assert list(s.total_spend) == [65.0, 8.0]


def test_summary_leaves_out_customers_first_seen_after_the_end() -> None:
    s = summarise([1, 2], [5, 50], [1.0, 1.0], calibration_end_day=10, unit="day")
    assert list(s.customer) == [1] and list(s.T) == [5.0]


def test_clv_by_hand_for_a_two_month_horizon() -> None:
    k = units_per_month("week")
    x, t_x, T = [3], [20.0], [30.0]
    one = conditional_expected_purchases(BG, k, x, t_x, T)[0]
    two = conditional_expected_purchases(BG, 2 * k, x, t_x, T)[0]
    spend, d = 40.0, 0.01
    by_hand = spend * (one / (1 + d) + (two - one) / (1 + d) ** 2)
    value = discounted_clv(BG, [spend], x, t_x, T, horizon_months=2, monthly_discount_rate=d, unit="week")[0]
    assert value == pytest.approx(by_hand, rel=1e-12)


def test_clv_without_discount_is_spend_times_expected_purchases() -> None:
    k = units_per_month("day")
    value = discounted_clv(BG, [10.0], [2], [50.0], [90.0], horizon_months=12, monthly_discount_rate=0.0, unit="day")
    assert value[0] == pytest.approx(10.0 * conditional_expected_purchases(BG, 12 * k, [2], [50.0], [90.0])[0])


def test_risk_tier_thresholds() -> None:
    tiers = risk_tiers([0.0, 0.2499, 0.25, 0.4999, 0.5, 0.7499, 0.75, 1.0])
    assert list(tiers) == ["critical", "critical", "high", "high", "medium", "medium", "low", "low"]


def test_value_bands_from_percentile_cutoffs() -> None:
    clv = np.arange(100, dtype=float)  # 0..99
    cutoffs = value_band_cutoffs(clv)
    assert cutoffs == pytest.approx((49.5, 79.2, 94.05))
    bands = value_bands(clv, cutoffs)
    assert (bands == "low").sum() == 50 and (bands == "medium").sum() == 30
    assert (bands == "high").sum() == 15 and (bands == "top").sum() == 5


def test_grouping_maps_rows_back() -> None:
    g = group_rows(np.array([1, 0, 1, 0.0]), np.array([2, 0, 2, 0.0]))
    assert list(g.weights) == [2.0, 2.0]
    assert list(g.expand(np.array([10.0, 20.0]))) == [20.0, 10.0, 20.0, 10.0]


def test_score_agrees_with_the_formulas_row_by_row() -> None:
    x = np.array([0, 2, 2, 5.0])
    t_x = np.array([0, 10, 10, 30.0])
    T = np.array([38, 38, 38, 38.0])
    m = np.array([0, 20, 30, 15.0])
    scores, cutoffs = score(BG, GG, x, t_x, T, m, unit="week", horizon_months=12, monthly_discount_rate=0.01)
    assert np.allclose(scores.p_alive, probability_alive(BG, x, t_x, T))
    horizon = 12 * units_per_month("week")
    assert np.allclose(scores.expected_purchases, conditional_expected_purchases(BG, horizon, x, t_x, T))
    for i in range(4):
        alone = discounted_clv(
            BG,
            [scores.expected_spend[i]],
            x[i : i + 1],
            t_x[i : i + 1],
            T[i : i + 1],
            horizon_months=12,
            monthly_discount_rate=0.01,
            unit="week",
        )[0]
        assert scores.clv[i] == pytest.approx(alone, rel=1e-12)
    assert scores.clv[2] > scores.clv[1]  # same history, higher spend
    assert list(scores.risk_tier) == list(risk_tiers(scores.p_alive))
    assert list(value_bands(scores.clv, cutoffs)) == list(scores.value_band)


def test_grouped_horizon_tail_equals_row_by_row() -> None:
    from relacja_churn.domain.models.bgnbd import _tail, horizon_tail

    rng = np.random.default_rng(9)
    x = rng.integers(0, 6, 2_000).astype(float)
    T = rng.integers(0, 60, 2_000) / 7.0
    assert np.allclose(horizon_tail(BG, 13.0, x, T), _tail(BG, 13.0, x, T), rtol=1e-13, atol=0)


def test_grouping_by_integer_key_matches_row_uniqueness() -> None:
    rng = np.random.default_rng(1)
    cols = [rng.integers(0, 5, 5_000).astype(float), rng.integers(0, 40, 5_000) / 7.0, rng.integers(0, 40, 5_000) / 7.0]
    g = group_rows(*cols)
    stacked = np.column_stack(cols)
    assert len(g.weights) == len(np.unique(stacked, axis=0)) and g.weights.sum() == 5_000
    for i, column in enumerate(cols):
        assert np.array_equal(g.expand(g.columns[i]), column)
