"""Event handlers of the consumers ``engagement.triggers`` and ``engagement.reviews``.

engagement.reviews    relacja.orders delivered → eng_delivered_lines (verified purchase);
                      relacja.customers erased / merged → the reviewer's data (app/reviews.py)
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
from relacja_contracts.events import CustomerErasedV1, CustomersMergedV1, OrderDeliveredV1
from relacja_messaging import EventHandlers

from .app import reviews

__all__ = ["CONSUMER_GROUP", "REVIEWS_CONSUMER_GROUP", "handlers", "review_handlers"]

CONSUMER_GROUP = "engagement.triggers"

handlers = EventHandlers()


# -- reviews (part 6): a consumer group of its own, ``engagement.reviews`` --------------
# Its own group because an event type has one handler per group and the triggers above
# also react to deliveries and erasures; the reviews' projection does not wait for them.

REVIEWS_CONSUMER_GROUP = "engagement.reviews"

review_handlers = EventHandlers()


@review_handlers.on(OrderDeliveredV1)
async def on_order_delivered(session: AsyncSession, event: CloudEvent, payload: OrderDeliveredV1) -> None:
    await reviews.record_delivered_order(session, payload)


@review_handlers.on(CustomerErasedV1)
async def on_reviewer_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await reviews.erase_reviewer(session, payload.customer_id, payload.erased_at)


@review_handlers.on(CustomersMergedV1)
async def on_reviewers_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await reviews.merge_reviewer(session, payload.customer_id, payload.merged_customer_id)
