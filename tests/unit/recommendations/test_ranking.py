"""The ranking rule: weights of recent baskets, scores, reasons, exclusions, popular filler;
and what an order puts in a basket."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import pytest

from relacja_recommendations.domain.baskets import kept_products
from relacja_recommendations.domain.ranking import Edge, rank_suggestions, recent_weights


def test_recent_weights_halve_per_older_basket_and_keep_the_newest() -> None:
    assert recent_weights([["a", "b"], ["b", "c"], ["d"]]) == {"a": 1.0, "b": 1.0, "c": 0.5, "d": 0.25}


def test_scores_sum_weighted_confidences_and_name_the_strongest_reason() -> None:
    recent: dict[Hashable, float] = {"camera": 1.0, "tripod": 0.5}
    edges = [
        Edge("camera", "lens", confidence=0.4, lift=3.0),
        Edge("tripod", "lens", confidence=0.6, lift=2.0),
        Edge("camera", "bag", confidence=0.5, lift=1.5),
        Edge("camera", "tripod", confidence=0.9, lift=4.0),  # already bought: excluded
        Edge("stranger", "card", confidence=1.0, lift=9.0),  # not a recent product: ignored
    ]
    ranked = rank_suggestions(recent, edges, excluded={"camera", "tripod"}, popular=["card", "bag", "strap"], limit=4)
    assert [s.product for s in ranked] == ["lens", "bag", "card", "strap"]
    lens = ranked[0]
    assert lens.score == pytest.approx(1.0 * 0.4 + 0.5 * 0.6)
    assert lens.because_of == "camera" and lens.source == "bought_together"  # 0.4 > 0.5 × 0.6
    assert [s.source for s in ranked[2:]] == ["popular", "popular"]
    assert ranked[2].because_of is None


def test_ties_break_on_lift_then_id() -> None:
    edges = [Edge("a", "y", 0.5, 1.2), Edge("a", "x", 0.5, 1.2), Edge("a", "z", 0.5, 2.0)]
    recent: dict[Hashable, float] = {"a": 1.0}
    assert [s.product for s in rank_suggestions(recent, edges, set(), [], 3)] == ["z", "x", "y"]


@dataclass(frozen=True)
class Line:
    product_id: str | None
    quantity: int
    returned_quantity: int = 0


def test_a_basket_holds_what_was_kept() -> None:
    lines = [Line("a", 2, 2), Line("b", 3, 1), Line(None, 1), Line("c", 1), Line("c", 2)]
    assert kept_products("delivered", lines) == {"b": 2, "c": 3}
    assert kept_products("cancelled", lines) == {}
