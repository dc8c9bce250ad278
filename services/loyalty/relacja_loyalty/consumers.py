"""The event consumer ``loyalty.projection``: customers, orders and segment membership.

    relacja.customers     registered / merged / erased → known_customers (who may enrol);
                          merged → ledgers combined under the survivor; erased → personal
                          data removed; important_date.upcoming (birthday) → birth month
    relacja.orders        placed (with a coupon code) → the coupon's use counted;
                          paid → points earned; cancelled → points reversed, coupon released;
                          returned → points reversed in proportion to the refunded net amount
    relacja.segmentation  segment_member added / removed → offer audiences

Every handler runs in the consumer's inbox transaction (the event id recorded with the
effect), and is idempotent on its own too (see ``app/accrual.py``, ``app/coupon_usage.py``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
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
from relacja_servicekit.known_customers import project_erased, project_merged, project_registered

from .app import accrual, coupon_usage, customers
from .tables import known_customers

__all__ = ["handlers", "CONSUMER_GROUP"]

CONSUMER_GROUP = "loyalty.projection"

handlers = EventHandlers()


@handlers.on(CustomerRegisteredV1)
async def customer_registered(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
    await project_registered(session, known_customers, payload.customer_id)


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


@handlers.on(OrderPlacedV1)
async def order_placed(session: AsyncSession, event: CloudEvent, payload: OrderPlacedV1) -> None:
    if payload.coupon_code:
        await coupon_usage.used(
            session, payload.coupon_code, payload.order_id, payload.customer_id, payload.occurred_at
        )


@handlers.on(OrderPaidV1)
async def order_paid(session: AsyncSession, event: CloudEvent, payload: OrderPaidV1) -> None:
    await accrual.accrue(session, payload)


@handlers.on(OrderCancelledV1)
async def order_cancelled(session: AsyncSession, event: CloudEvent, payload: OrderCancelledV1) -> None:
    await accrual.settle(session, payload, payload.occurred_at)
    await coupon_usage.released(session, payload.order_id, payload.occurred_at)


@handlers.on(OrderReturnedV1)
async def order_returned(session: AsyncSession, event: CloudEvent, payload: OrderReturnedV1) -> None:
    await accrual.settle(session, payload, payload.occurred_at)


@handlers.on(SegmentMemberAddedV1)
async def segment_added(session: AsyncSession, event: CloudEvent, payload: SegmentMemberAddedV1) -> None:
    await customers.segment_joined(session, payload.customer_id, payload.segment_id)


@handlers.on(SegmentMemberRemovedV1)
async def segment_removed(session: AsyncSession, event: CloudEvent, payload: SegmentMemberRemovedV1) -> None:
    await customers.segment_left(session, payload.customer_id, payload.segment_id)
