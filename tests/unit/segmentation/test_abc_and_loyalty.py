"""ABC cut-offs (and the straddling customer) and loyalty-matrix quadrants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from relacja_segmentation.domain import abc, loyalty


def classes(revenue, a=0.8, b=0.95) -> str:
    return "".join("ABC"[c] for c in abc.abc_classes(np.array(revenue), abc.AbcCutoffs(a, b)))


def test_the_customer_crossing_a_cut_off_falls_into_the_upper_class() -> None:
    # Shares: 50 % | 30 % (before: 50 → A) | 15 % (before: 80 → not A, below 95 → B) | 5 % (before 95 → C)
    assert classes([50, 30, 15, 5]) == "AABC"
    # 79 % before the second customer: it straddles 80 % (and 95 %) and is A; 99 % before the third: C.
    assert classes([79, 20, 1]) == "AAC"


def test_exact_cut_off_is_not_below_it() -> None:
    # Before the third customer exactly 80 %: not below a, so B; before the fourth exactly 95 %: C.
    assert classes([40, 40, 15, 5]) == "AABC"


def test_input_order_does_not_matter_and_ties_go_by_tiebreak() -> None:
    revenue = np.array([5, 50, 15, 30])
    assert "".join("ABC"[c] for c in abc.abc_classes(revenue)) == "CABA"
    # Equal revenues: the lower tiebreak comes first in the list.
    tied = abc.abc_classes(np.array([10, 10, 10, 10, 10]), abc.AbcCutoffs(0.5, 0.9), tiebreak=np.array([4, 3, 2, 1, 0]))
    order = abc.abc_order(np.array([10, 10, 10, 10, 10]), np.array([4, 3, 2, 1, 0]))
    assert order.tolist() == [4, 3, 2, 1, 0]
    assert [int(tied[i]) for i in order] == [0, 0, 0, 1, 1]


def test_configurable_cut_offs() -> None:
    revenue = [30, 25, 20, 15, 10]
    assert classes(revenue, 0.5, 0.8) == "AABBC"
    assert classes(revenue, 0.8, 0.95) == "AAAAB"  # 75 % before the fourth: A; 90 % before the fifth: B
    with pytest.raises(ValueError):
        abc.AbcCutoffs(0.9, 0.8)
    with pytest.raises(ValueError):
        abc.AbcCutoffs(0, 0.8)


def test_no_revenue_is_class_c_and_negative_counts_as_zero() -> None:
    assert classes([0, 0]) == "CC"
    assert classes([100, -20]) == "AC"


def test_single_customer_class_against_boundaries_matches_full_computation() -> None:
    rng = np.random.default_rng(3)
    revenue = rng.integers(0, 1000, 500)
    full = abc.abc_classes(revenue)
    # The tie-break is the customer id as a string, as in the service; zero-padded, so ids sort like positions.
    ids = [f"{i:03d}" for i in range(500)]
    # class_against takes a dict of tuples or lists (stored boundaries come back from JSON as lists);
    # dict is invariant, so the tuple-only dict abc_boundaries returns is copied into that type.
    bounds: dict[str, tuple[Any, ...] | list[Any] | None] = dict(abc.abc_boundaries(revenue, full, ids))
    for i in range(500):
        assert abc.class_against(int(revenue[i]), ids[i], bounds) == "ABC"[full[i]]


def test_quadrants() -> None:
    margin = np.array([100, 100, 10, 10, -5])
    purchases = np.array([3, 1, 4, 1, 5])
    recency = np.array([10, 10, 10, 10, 10])
    threshold = loyalty.profit_threshold(margin)
    assert threshold == 10  # the lower middle of [-5, 10, 10, 100, 100]
    codes = loyalty.quadrant_codes(margin, purchases, recency, threshold=50)
    assert [loyalty.QUADRANTS[c] for c in codes] == [
        "true_friends",
        "butterflies",
        "barnacles",
        "strangers",
        "barnacles",
    ]


def test_lapsed_repeat_buyers_are_not_loyal() -> None:
    params = loyalty.LoyaltyParams(min_purchases=2, max_recency_days=365)
    assert loyalty.quadrant_of(100, 5, 365, 50, params) == "true_friends"
    assert loyalty.quadrant_of(100, 5, 366, 50, params) == "butterflies"
    assert loyalty.quadrant_of(0, 5, 10, 0, params) == "barnacles"  # zero margin is never profitable


def test_every_quadrant_documents_measurement_and_treatment() -> None:
    for code in loyalty.QUADRANTS:
        info = loyalty.QUADRANT_INFO[code]
        assert info["label"] and info["measurement"] and info["treatment"]
