"""Support, confidence and lift: on baskets worked by hand, and equal to mlxtend's
association rules on random baskets (a property test)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlxtend.frequent_patterns import apriori, association_rules

from relacja_recommendations.domain.association import co_occurrence, pair_figures

# Five baskets over products 0 = bread, 1 = butter, 2 = jam, 3 = milk.
HAND_BASKETS = [[0, 1], [0, 1, 2], [0, 2], [1, 3], [0, 1, 3]]


def _arrays(baskets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    basket_index = np.array([b for b, items in enumerate(baskets) for _ in items], dtype=np.int64)
    product_index = np.array([p for items in baskets for p in items], dtype=np.int64)
    return basket_index, product_index


def test_figures_worked_by_hand() -> None:
    counts = co_occurrence(*_arrays(HAND_BASKETS), 4)
    assert counts.baskets == 5
    assert counts.items.tolist() == [4, 4, 2, 2]  # bread, butter, jam, milk
    bread_butter = counts.figures(0, 1)
    # n(bread ∧ butter) = 3 of 5 baskets; 3 of the 4 with bread; lift 3·5 / (4·4).
    assert bread_butter.count == 3
    assert bread_butter.support == 3 / 5
    assert bread_butter.confidence == 3 / 4 and bread_butter.reverse_confidence == 3 / 4
    assert bread_butter.lift == 15 / 16
    bread_jam = counts.figures(0, 2)
    # Both jam baskets hold bread: confidence(jam → bread) = 1, lift 2·5 / (4·2) = 1.25.
    assert (bread_jam.count, bread_jam.support) == (2, 2 / 5)
    assert (bread_jam.confidence, bread_jam.reverse_confidence, bread_jam.lift) == (2 / 4, 1.0, 1.25)
    butter_milk = counts.figures(1, 3)
    assert (butter_milk.count, butter_milk.lift) == (2, 2 * 5 / (4 * 2))
    assert counts.pairs[2, 3] == 0  # jam and milk never together


def test_a_product_twice_in_a_basket_counts_once() -> None:
    counts = co_occurrence(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]), 2)
    assert counts.items.tolist() == [1, 2] and counts.pairs[0, 1] == 1 and counts.baskets == 2


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        pair_figures(10, 2, 3, 4)  # more baskets with both than with A
    with pytest.raises(ValueError):
        pair_figures(10, 2, 3, 0)  # never together: no figures


baskets_strategy = st.lists(
    st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=5, unique=True), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets_strategy)
def test_equal_to_mlxtend_association_rules(baskets: list[list[int]]) -> None:
    n_products = 8
    matrix = np.zeros((len(baskets), n_products), dtype=bool)
    for row, items in enumerate(baskets):
        matrix[row, items] = True
    frame = pd.DataFrame(matrix, columns=[f"p{i}" for i in range(n_products)])
    itemsets = apriori(frame, min_support=1e-9, max_len=2, use_colnames=True)
    counts = co_occurrence(*_arrays(baskets), n_products)
    expected_pairs = {(a, b) for a in range(n_products) for b in range(a + 1, n_products) if counts.pairs[a, b] > 0}
    if not any(len(s) == 2 for s in itemsets["itemsets"]):
        assert not expected_pairs
        return
    rules = association_rules(
        itemsets,
        num_itemsets=len(frame),
        metric="lift",
        min_threshold=0,
        return_metrics=["antecedent support", "consequent support", "support", "confidence", "lift"],
    )
    seen = set()
    for rule in rules.to_dict("records"):
        (a,) = [int(x[1:]) for x in rule["antecedents"]]
        (b,) = [int(x[1:]) for x in rule["consequents"]]
        figures = counts.figures(a, b)
        # Counts are integers: support × N gives them back exactly.
        assert round(rule["support"] * len(baskets)) == figures.count
        assert math.isclose(rule["support"], figures.support, rel_tol=1e-12)
        assert math.isclose(rule["confidence"], figures.confidence, rel_tol=1e-12)
        assert math.isclose(rule["lift"], figures.lift, rel_tol=1e-12)
        assert math.isclose(rule["antecedent support"], counts.items[a] / counts.baskets, rel_tol=1e-12)
        seen.add((min(a, b), max(a, b)))
    assert seen == expected_pairs
