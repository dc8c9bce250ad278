"""The event consumer ``loyalty.projection``: customers, orders and segment membership.

    relacja.customers     registered / merged / erased → known_customers (who may enrol);
                          merged → ledgers combined under the survivor; erased → personal
                          data removed; important_date.upcoming (birthday) → birth month
    relacja.orders        placed (with a coupon code) → the coupon's use counted;
                          paid → points earned; cancelled → points reversed, coupon released;
                          returned → points reversed in proportion to the refunded net amount
    relacja.segmentation  segment_member added / removed → offer audiences

Registrations and order events are applied a fetch's run at a time (``on_batch``): one
INSERT of the registered customers; one query for which paid orders' buyers are members,
then only the events that change something. Every handler runs in the consumer's inbox
transaction (the event id recorded with the effect), and is idempotent on its own too
(see ``app/accrual.py``, ``app/coupon_usage.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    ImportantDateUpcomingV1,
    OrderCancelledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
    SegmentMemberAddedV1,
    SegmentMemberRemovedV1,
)
from relacja_messaging import EventHandlers
from relacja_servicekit.known_customers import project_erased, project_merged, project_registered_many

from .app import accrual, coupon_usage, customers
from .tables import known_customers

__all__ = ["handlers", "CONSUMER_GROUP"]

CONSUMER_GROUP = "loyalty.projection"

handlers = EventHandlers()


@handlers.on_batch(CustomerRegisteredV1)
async def customers_registered(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    registered = [payload for _, payload in events if isinstance(payload, CustomerRegisteredV1)]
    await project_registered_many(session, known_customers, [(p.customer_id, None) for p in registered])


@handlers.on(CustomersMergedV1)
async def customers_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await project_merged(session, known_customers, payload.customer_id, payload.merged_customer_id)
    await customers.merged(session, payload.customer_id, payload.merged_customer_id, event.time)


@handlers.on(CustomerErasedV1)
async def customer_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await project_erased(session, known_customers, payload.customer_id)
    await customers.erased(session, payload.customer_id, payload.erased_at)


@handlers.on(ImportantDateUpcomingV1)
async def important_date(session: AsyncSession, event: CloudEvent, payload: ImportantDateUpcomingV1) -> None:
    if payload.kind == "birthday":
        await customers.birthday(session, payload.customer_id, payload.occurs_on.month)


@handlers.on_batch(OrderPlacedV1, OrderPaidV1, OrderCancelledV1, OrderReturnedV1)
async def order_events(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of order events, in offset order. Most need nothing from us (no coupon,
    no membership): one query finds the paid orders of members, and only the events that
    change something run their statements."""
    payloads = [payload for _, payload in events]
    earning = await accrual.earning_customers(session, [p for p in payloads if isinstance(p, OrderPaidV1)])
    for payload in payloads:
        if isinstance(payload, OrderPlacedV1):
            if payload.coupon_code:
                await coupon_usage.used(
                    session, payload.coupon_code, payload.order_id, payload.customer_id, payload.occurred_at
                )
        elif isinstance(payload, OrderPaidV1):
            if (payload.customer_id, payload.currency) in earning:
                await accrual.accrue(session, payload)
        elif isinstance(payload, OrderCancelledV1):
            await accrual.settle(session, payload, payload.occurred_at)
            await coupon_usage.released(session, payload.order_id, payload.occurred_at)
        elif isinstance(payload, OrderReturnedV1):
            await accrual.settle(session, payload, payload.occurred_at)


@handlers.on(SegmentMemberAddedV1)
async def segment_added(session: AsyncSession, event: CloudEvent, payload: SegmentMemberAddedV1) -> None:
    await customers.segment_joined(session, payload.customer_id, payload.segment_id)


@handlers.on(SegmentMemberRemovedV1)
async def segment_removed(session: AsyncSession, event: CloudEvent, payload: SegmentMemberRemovedV1) -> None:
    await customers.segment_left(session, payload.customer_id, payload.segment_id)
