"""``RecommendationsRefreshedV1``: a customer's suggestions after a change that moves them.

    announce_queued(session, settings, limit) → how many customers were taken from the queue
    announce(session, customer_id, settings)  one event through the outbox

The consumer only *queues* the customer (``rec_refresh_queue``, in the transaction of the
change: an order that changed their baskets, a profiling consent granted or withdrawn);
the announcer worker takes queued customers (``FOR UPDATE SKIP LOCKED``, so replicas share
the work), ranks their suggestions and writes the events, in one transaction with the
dequeue. Ranking costs a few queries; keeping it out of the consumer's transaction keeps
the order path at one statement per event, and a burst of orders of one customer gives
one event. With a consent the event carries the top ``ANNOUNCED`` suggestions; without one
(only after a consent change) it says ``personalised: false`` and carries none (the
engagement service uses the popular list).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.recommendations import RecommendationsRefreshedV1, SuggestedProduct

from ..events import outbox
from ..settings import RecommendationsSettings
from ..tables import rec_products
from .projection import has_profiling_consent
from .suggestions import rank_for_customer

__all__ = ["ANNOUNCED", "announce", "announce_queued"]

ANNOUNCED = 5


async def announce(session: AsyncSession, customer_id: uuid.UUID, settings: RecommendationsSettings) -> None:
    products: list[SuggestedProduct] = []
    personalised = await has_profiling_consent(session, customer_id)
    if personalised:
        ranked = await rank_for_customer(session, customer_id, ANNOUNCED, settings)
        rows = {
            r.product_id: r
            for r in (
                await session.execute(
                    select(rec_products.c.product_id, rec_products.c.sku, rec_products.c.name).where(
                        rec_products.c.product_id.in_([s.product for s in ranked])
                    )
                )
            ).all()
        }
        products = [
            SuggestedProduct(
                product_id=s.product,
                sku=rows[s.product].sku if s.product in rows else None,
                name=rows[s.product].name if s.product in rows else None,
                source=s.source,
                because_of_product_id=s.because_of,
                score=s.score,
            )
            for s in ranked
        ]
    await outbox.add(
        session,
        RecommendationsRefreshedV1(
            customer_id=customer_id, personalised=personalised, products=products, refreshed_at=datetime.now(UTC)
        ),
    )


async def announce_queued(session: AsyncSession, settings: RecommendationsSettings, limit: int = 200) -> int:
    taken = (
        await session.execute(
            text("""
            DELETE FROM rec_refresh_queue WHERE customer_id IN (
                SELECT customer_id FROM rec_refresh_queue ORDER BY queued_at LIMIT :limit FOR UPDATE SKIP LOCKED
            ) RETURNING customer_id, consent_changed
            """),
            {"limit": limit},
        )
    ).all()
    for row in taken:
        if row.consent_changed or await has_profiling_consent(session, row.customer_id):
            await announce(session, row.customer_id, settings)
    return len(taken)
