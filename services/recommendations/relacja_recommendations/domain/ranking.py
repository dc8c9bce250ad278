"""How a customer's suggestions are ranked — one rule for the live answer and the evaluation.

    recent_weights(baskets)          product → weight from the customer's latest baskets,
                                     newest first: a product in the newest basket weighs 1,
                                     one basket older ½, then ¼ … (its best basket counts)
    rank_suggestions(recent, edges, excluded, popular, limit)

An *edge* is a pair statistic seen from a product the customer bought (``source``) to a
product they might buy (``target``): confidence(source → target) and the lift. The score
of a target is Σ weight(source) · confidence(source → target) over its edges — the
expected number of the customer's recent products that "pull" it, favouring what
customers usually buy next to them over rare pairs with a high lift (edges under the
minimum lift are left out before: a lift ≤ 1 says the pair is no more than chance).
The reason shown is the source with the largest share of the score ("often bought with
X"). Targets in ``excluded`` (already bought, inactive) are skipped; when fewer than
``limit`` remain, the list is filled from ``popular`` (most baskets in the window),
labelled ``popular``. Ties break on the higher lift, then the product id, so the order
is deterministic.
"""

from __future__ import annotations

from collections.abc import Container, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Edge", "Suggestion", "rank_suggestions", "recent_weights"]

Source = Literal["bought_together", "popular"]


@dataclass(frozen=True)
class Edge:
    source: Hashable
    target: Hashable
    confidence: float
    lift: float


@dataclass(frozen=True)
class Suggestion:
    product: Hashable
    source: Source
    score: float
    because_of: Hashable | None = None
    confidence: float | None = None
    lift: float | None = None


def recent_weights(baskets: Iterable[Iterable[Hashable]]) -> dict[Hashable, float]:
    """``baskets`` newest first; each product weighs 0.5 ** (index of the newest basket holding it)."""
    weights: dict[Hashable, float] = {}
    for age, basket in enumerate(baskets):
        for product in basket:
            weights.setdefault(product, 0.5**age)
    return weights


def rank_suggestions(
    recent: dict[Hashable, float],
    edges: Iterable[Edge],
    excluded: Container[Hashable],
    popular: Sequence[Hashable],
    limit: int,
) -> list[Suggestion]:
    scores: dict[Hashable, float] = {}
    best: dict[Hashable, tuple[float, Edge]] = {}
    for edge in edges:
        weight = recent.get(edge.source)
        if weight is None or edge.target in excluded:
            continue
        share = weight * edge.confidence
        scores[edge.target] = scores.get(edge.target, 0.0) + share
        held = best.get(edge.target)
        if held is None or (share, edge.lift, str(edge.source)) > (held[0], held[1].lift, str(held[1].source)):
            best[edge.target] = (share, edge)
    ordered = sorted(scores, key=lambda t: (-scores[t], -best[t][1].lift, str(t)))
    chosen = [
        Suggestion(
            product=target,
            source="bought_together",
            score=scores[target],
            because_of=best[target][1].source,
            confidence=best[target][1].confidence,
            lift=best[target][1].lift,
        )
        for target in ordered[:limit]
    ]
    taken = {s.product for s in chosen}
    for product in popular:
        if len(chosen) >= limit:
            break
        if product in taken or product in excluded:
            continue
        chosen.append(Suggestion(product=product, source="popular", score=0.0))
        taken.add(product)
    return chosen
