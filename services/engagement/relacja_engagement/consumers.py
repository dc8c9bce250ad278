"""Event handlers of the consumers ``engagement.triggers`` and ``engagement.reviews``.

    relacja.customers     registered / updated / merged / erased → known_customers;
                          consent granted / withdrawn → eng_consents (marketing purposes);
                          important date upcoming → triggers (batch)
    relacja.orders        placed / paid / delivered / cancelled, a fetch's run at once
                          (``on_batch``) → eng_orders and the order triggers
    relacja.segmentation  member added (batch: membership + triggers) / removed
    relacja.churn         risk tier changed (batch: the tier + triggers)
    relacja.loyalty       tier changed (batch: the tier + triggers); coupon redeemed / released
    relacja.tickets       ticket resolved (batch: triggers)

    engagement.reviews    relacja.orders delivered → eng_delivered_lines (verified purchase);
                          relacja.customers erased / merged → the reviewer's data (app/reviews.py)

Each runs in the consumer's transaction after the inbox row is written, so a redelivered
event never reaches a handler twice; a re-announced occurrence (the same birthday again)
writes nothing either, by the messages' unique occurrence key (app/evaluation.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CouponRedeemedV1,
    CouponReleasedV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    OrderDeliveredV1,
    SegmentMemberRemovedV1,
)
from relacja_messaging import EventHandlers

from .app import projection, reviews
from .app.evaluation import BATCH_EVENTS, evaluate_batch

__all__ = ["CONSUMER_GROUP", "REVIEWS_CONSUMER_GROUP", "handlers", "review_handlers"]

CONSUMER_GROUP = "engagement.triggers"

handlers = EventHandlers()


@handlers.on_batch(*BATCH_EVENTS)
async def on_trigger_events(session: AsyncSession, batch: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    await evaluate_batch(session, batch)


@handlers.on(CustomerRegisteredV1)
async def on_registered(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
    await projection.customer_registered(session, payload)


@handlers.on(CustomerUpdatedV1)
async def on_updated(session: AsyncSession, event: CloudEvent, payload: CustomerUpdatedV1) -> None:
    await projection.customer_updated(session, payload)


@handlers.on(CustomersMergedV1)
async def on_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await projection.customer_merged(session, payload.customer_id, payload.merged_customer_id)


@handlers.on(CustomerErasedV1)
async def on_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await projection.customer_erased(session, payload.customer_id)


@handlers.on(ConsentGrantedV1)
async def on_consent_granted(session: AsyncSession, event: CloudEvent, payload: ConsentGrantedV1) -> None:
    await projection.record_consent(session, payload)


@handlers.on(ConsentWithdrawnV1)
async def on_consent_withdrawn(session: AsyncSession, event: CloudEvent, payload: ConsentWithdrawnV1) -> None:
    await projection.record_consent(session, payload)


@handlers.on(SegmentMemberRemovedV1)
async def on_member_removed(session: AsyncSession, event: CloudEvent, payload: SegmentMemberRemovedV1) -> None:
    await projection.segment_member_removed(session, payload.segment_id, payload.customer_id)


@handlers.on(CouponRedeemedV1)
async def on_coupon_redeemed(session: AsyncSession, event: CloudEvent, payload: CouponRedeemedV1) -> None:
    await projection.coupon_redeemed(session, payload)


@handlers.on(CouponReleasedV1)
async def on_coupon_released(session: AsyncSession, event: CloudEvent, payload: CouponReleasedV1) -> None:
    await projection.coupon_released(session, payload.coupon_id, payload.order_id, payload.occurred_at)


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
