"""``RecommendationsRefreshedV1``: a customer's suggestions after a change that moves them.

Written in the transaction of the change (the consumer's): after an order changed the
customer's baskets, and after the profiling consent was granted or withdrawn. With a
consent the event carries the top ``ANNOUNCED`` suggestions; without one it says
``personalised: false`` and carries none (the engagement service uses the popular list).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.recommendations import RecommendationsRefreshedV1, SuggestedProduct

from ..events import outbox
from ..settings import RecommendationsSettings
from ..tables import rec_products
from .projection import has_profiling_consent
from .suggestions import rank_for_customer

__all__ = ["ANNOUNCED", "announce"]

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
