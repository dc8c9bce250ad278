"""Ranking metrics of the evaluation, for one customer and averaged over customers.

A customer's *relevant* set is what they bought in the test period (after the split
time) that a recommender may suggest (products bought before are excluded from both the
suggestions and the relevant set, unless repurchasable). With the top-``k`` list
``r₁ … r_k``:

    hit@k     = 1 if some rᵢ is relevant, else 0
    DCG@k     = Σᵢ rel(rᵢ) / log₂(i + 1)                 binary relevance, i from 1
    IDCG@k    = Σ_{i=1}^{min(k, |relevant|)} 1 / log₂(i + 1)
    NDCG@k    = DCG@k / IDCG@k                           (Järvelin & Kekäläinen 2002)

``hit_rate`` and ``ndcg`` average them over customers with a non-empty relevant set.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["RankingScore", "hit_at_k", "ndcg_at_k", "score_rankings"]


def hit_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    if not relevant:
        raise ValueError("NDCG is undefined without a relevant item")
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


@dataclass(frozen=True)
class RankingScore:
    customers: int
    hit_rate: float
    ndcg: float


def score_rankings(cases: Iterable[tuple[Sequence[Hashable], Collection[Hashable]]], k: int) -> RankingScore:
    """Mean hit@k and NDCG@k over (ranked list, relevant set) cases; empty relevant sets are skipped."""
    hits = gains = 0.0
    customers = 0
    for ranked, relevant in cases:
        if not relevant:
            continue
        customers += 1
        hits += hit_at_k(ranked, relevant, k)
        gains += ndcg_at_k(ranked, relevant, k)
    if customers == 0:
        return RankingScore(0, 0.0, 0.0)
    return RankingScore(customers, hits / customers, gains / customers)
