"""Hit rate@k and NDCG@k on an example worked by hand."""

from __future__ import annotations

import math

import pytest

from relacja_recommendations.domain.metrics import hit_at_k, ndcg_at_k, score_rankings


def test_ndcg_worked_by_hand() -> None:
    # Relevant: b and d. Ranked a, b, c, d: hits at ranks 2 and 4.
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; IDCG = 1/log2(2) + 1/log2(3) = 1 + 0.63093.
    ranked, relevant = ["a", "b", "c", "d"], {"b", "d"}
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx(0.65092, abs=1e-5)
    # Cut at 3: only b counts, the ideal list still has two slots for the two relevant items.
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg_at_k(["b", "d"], relevant, 10) == pytest.approx(1.0)
    assert hit_at_k(ranked, relevant, 1) == 0.0 and hit_at_k(ranked, relevant, 2) == 1.0


def test_means_over_customers_skip_empty_relevant_sets() -> None:
    score = score_rankings([(["x", "y"], {"y"}), (["x", "y"], {"z"}), (["x"], set())], k=2)
    assert score.customers == 2
    assert score.hit_rate == 0.5
    assert score.ndcg == pytest.approx((1 / math.log2(3)) / 2)


def test_ndcg_needs_a_relevant_item() -> None:
    with pytest.raises(ValueError):
        ndcg_at_k(["a"], set(), 10)
