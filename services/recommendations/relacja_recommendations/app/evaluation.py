"""The built-in evaluation: replay the history with a time split and score the recommender
against the popularity baseline.

    create_evaluation(session, split_at, k, test_days, settings) → the stored report row
    get_evaluation(session, id) / list_evaluations(session, limit, cursor)

Method (docs/recommendations.md):

1. *Train*: the baskets placed in [T − window_days, T) — all of them, as the live
   statistics count every basket — counted set-based in memory
   (``domain.association.co_occurrence``: the sparse ``BᵀB``).
2. *Test customers*: customers with a current ``profiling`` consent (the only ones who
   get personal suggestions), at least one basket before T and, after T within
   ``test_days``, a purchase of a product they had not bought before T (the relevant
   set; repurchasable categories stay in it).
3. Each test customer gets the recommender's top k — ``domain.ranking.rank_suggestions``
   over their latest ``recent_baskets`` training baskets, with the service's minimum
   count, support and lift — and the baseline's top k: the products in most training
   baskets, minus what the customer bought before T. Both skip the same products.
4. hit rate@k and NDCG@k (``domain.metrics``) of both are stored with the parameters.

The products' current ``active`` flag is not applied: a replay of the past suggests from
what was sold then.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import Page, paginate

from ..domain.association import co_occurrence
from ..domain.metrics import score_rankings
from ..domain.ranking import Edge, rank_suggestions, recent_weights
from ..settings import RecommendationsSettings
from ..tables import rec_evaluations
from .errors import EvaluationNotFound, InvalidSplit

__all__ = ["create_evaluation", "get_evaluation", "list_evaluations"]


async def create_evaluation(
    session: AsyncSession, split_at: datetime, k: int, test_days: int, settings: RecommendationsSettings
) -> Any:
    started = time.perf_counter()
    train_from = split_at - timedelta(days=settings.window_days)
    test_until = split_at + timedelta(days=test_days)
    rows = (
        await session.execute(
            text("""
            SELECT b.order_id, b.customer_id, b.placed_at, b.product_id,
                   coalesce(p.category, '') = ANY(:repurchasable) AS repurchasable,
                   b.customer_id IS NOT NULL AND EXISTS (
                       SELECT 1 FROM rec_consents c WHERE c.customer_id = b.customer_id AND c.granted
                   ) AS consented
            FROM rec_basket_items b LEFT JOIN rec_products p ON p.product_id = b.product_id
            WHERE b.placed_at >= :train_from AND b.placed_at < :test_until
            """),
            {"train_from": train_from, "test_until": test_until, "repurchasable": settings.repurchasable_categories},
        )
    ).all()
    train = [r for r in rows if r.placed_at < split_at]
    test = [r for r in rows if r.placed_at >= split_at and r.consented]
    if not train:
        raise InvalidSplit(f"No basket was placed in the {settings.window_days} days before {split_at.isoformat()}.")
    if not test:
        raise InvalidSplit(
            f"No customer with a profiling consent bought anything in the {test_days} days from {split_at.isoformat()}."
        )

    products = sorted({r.product_id for r in train}, key=str)
    number = {p: i for i, p in enumerate(products)}
    orders = {o: i for i, o in enumerate({r.order_id for r in train})}
    counts = co_occurrence(
        np.fromiter((orders[r.order_id] for r in train), dtype=np.int64, count=len(train)),
        np.fromiter((number[r.product_id] for r in train), dtype=np.int64, count=len(train)),
        len(products),
    )
    popular = [products[i] for i in np.lexsort((np.arange(len(products)), -counts.items))]

    baskets: dict[uuid.UUID, dict[tuple[datetime, uuid.UUID], list[uuid.UUID]]] = defaultdict(dict)
    bought: dict[uuid.UUID, set[Hashable]] = defaultdict(set)
    for r in train:
        if r.customer_id is not None and r.consented:
            baskets[r.customer_id].setdefault((r.placed_at, r.order_id), []).append(r.product_id)
            if not r.repurchasable:
                bought[r.customer_id].add(r.product_id)
    relevant: dict[uuid.UUID, set[Hashable]] = defaultdict(set)
    for r in test:
        if r.customer_id in baskets and r.product_id not in bought[r.customer_id]:
            relevant[r.customer_id].add(r.product_id)

    recommender_cases = []
    baseline_cases = []
    for customer_id, wanted in relevant.items():
        latest = sorted(baskets[customer_id], reverse=True)[: settings.recent_baskets]
        recent = recent_weights(baskets[customer_id][key] for key in latest)
        edges = _edges(counts, number, products, recent, settings)
        ranked = rank_suggestions(recent, edges, bought[customer_id], popular, k)
        recommender_cases.append(([s.product for s in ranked], wanted))
        baseline = [p for p in popular if p not in bought[customer_id]][:k]
        baseline_cases.append((baseline, wanted))
    recommender = score_rankings(recommender_cases, k)
    baseline_score = score_rankings(baseline_cases, k)
    if recommender.customers == 0:
        raise InvalidSplit(
            f"No customer who bought before {split_at.isoformat()} bought a new product in the {test_days} days after it."
        )
    parameters = {
        "window_days": settings.window_days,
        "test_days": test_days,
        "min_count": settings.min_count,
        "min_support": settings.min_support,
        "min_lift": settings.min_lift,
        "recent_baskets": settings.recent_baskets,
        "repurchasable_categories": settings.repurchasable_categories,
    }
    return (
        await session.execute(
            insert(rec_evaluations)
            .values(
                id=uuid.uuid4(),
                split_at=split_at,
                test_until=test_until,
                k=k,
                parameters=parameters,
                train_baskets=counts.baskets,
                test_customers=recommender.customers,
                recommender_hit_rate=recommender.hit_rate,
                recommender_ndcg=recommender.ndcg,
                baseline_hit_rate=baseline_score.hit_rate,
                baseline_ndcg=baseline_score.ndcg,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )
            .returning(*rec_evaluations.c)
        )
    ).one()


def _edges(
    counts: Any,
    number: dict[Any, int],
    products: list[Any],
    recent: dict[Hashable, float],
    settings: RecommendationsSettings,
) -> list[Edge]:
    """The pair statistics from each recent product, filtered as the live answer filters them."""
    edges = []
    pairs = counts.pairs
    for source in recent:
        a = number.get(source)
        if a is None:
            continue
        start, end = pairs.indptr[a], pairs.indptr[a + 1]
        targets = pairs.indices[start:end]
        together = pairs.data[start:end]
        n_a = counts.items[a]
        for b, n_ab in zip(targets.tolist(), together.tolist(), strict=True):
            lift = (n_ab * counts.baskets) / (n_a * counts.items[b])
            if (
                n_ab >= settings.min_count
                and n_ab / counts.baskets >= settings.min_support
                and lift >= settings.min_lift
            ):
                edges.append(Edge(source, products[b], n_ab / n_a, float(lift)))
    return edges


async def get_evaluation(session: AsyncSession, evaluation_id: uuid.UUID) -> Any:
    row = (await session.execute(select(rec_evaluations).where(rec_evaluations.c.id == evaluation_id))).first()
    if row is None:
        raise EvaluationNotFound(evaluation_id)
    return row


async def list_evaluations(session: AsyncSession, limit: int, cursor: str | None, to_item: Any) -> Page[Any]:
    return await paginate(
        session,
        select(rec_evaluations),
        keys=[rec_evaluations.c.created_at, rec_evaluations.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-created_at",
        to_item=to_item,
    )
