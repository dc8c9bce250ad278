"""The service's projections: who may order (``relacja.customers``, consumer group
``orders.customers``), which coupons exist (``relacja.loyalty``, group ``orders.coupons``),
and draft orders from won deals (``relacja.sales``).

    CustomerRegisteredV1  the customer becomes known (``active``), with its external id
                          (imports find customers by it); a fetch's run of them in one INSERT
    CustomersMergedV1     the merged id becomes ``merged`` (pointing at the survivor) and
                          its orders and personal coupons are re-keyed to the survivor; the
                          survivor is active
    CustomerErasedV1      the customer becomes ``erased`` (no new orders) and the personal
                          data of its orders — shipping address and note — is removed
    OpportunityWonV1      a won deal with ``draft_order`` becomes a draft order (``order_drafts``,
                          id = the deal's id, so a redelivery adds nothing): its lines as the
                          deal agreed them, for staff to turn into an order

Merges emit no order events: every consumer of order events also receives
``CustomersMergedV1`` (same partition key as the survivor's later events) and re-keys what
it holds itself; re-emitting each order would duplicate that work and flood the topic for
customers with long histories. The re-keyed orders carry the survivor from their next
event on. Handlers run in the consumer's inbox transaction, so each applies exactly once;
they are also safe in any order (an erasure seen before registration stays erased).
The projection's rows are written by ``relacja_servicekit.known_customers``, the same
statements as in every customer-checking service; a customer missing here is looked up
once at the customers service when an order names it (read-through,
``app/orders.require_orderable_customer``).

    CouponIssuedV1        the coupon becomes usable at checkout (``app/coupons.py``)
    CouponRevokedV1       checkout refuses it from then on

A coupon's issue and revocation share a Kafka key (its customer, or the coupon for a
public one), so they arrive in order. Its uses are counted by the orders themselves, so
the loyalty service's CouponRedeemedV1 / CouponReleasedV1 (which it derives from the
order events) are not consumed here. Two groups, not one: each read model reports its own
freshness, and a stalled feed of one does not hold back the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events.customers import CustomerErasedV1, CustomerRegisteredV1, CustomersMergedV1
from relacja_contracts.events.loyalty import CouponIssuedV1, CouponRevokedV1
from relacja_contracts.events.sales import OpportunityWonV1
from relacja_messaging import EventHandlers
from relacja_servicekit.known_customers import project_erased, project_merged, project_registered_many

from .app.coupons import project_issued, project_revoked, rekey_to_survivor
from .tables import known_customers, order_drafts, orders

__all__ = ["handlers", "CONSUMER_GROUP", "coupon_handlers", "COUPONS_CONSUMER_GROUP"]

CONSUMER_GROUP = "orders.customers"
COUPONS_CONSUMER_GROUP = "orders.coupons"

handlers = EventHandlers()
coupon_handlers = EventHandlers()


@handlers.on_batch(CustomerRegisteredV1)
async def customers_registered(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of registrations (an import's thousands) in one INSERT."""
    registered = [payload for _, payload in events if isinstance(payload, CustomerRegisteredV1)]
    await project_registered_many(session, known_customers, [(p.customer_id, p.external_id) for p in registered])


@handlers.on(CustomersMergedV1)
async def customers_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    survivor, merged = payload.customer_id, payload.merged_customer_id
    await project_merged(session, known_customers, survivor, merged)
    await session.execute(
        update(orders)
        .where(orders.c.customer_id == merged)
        .values(customer_id=survivor, version=orders.c.version + 1, updated_at=func.now())
    )
    await rekey_to_survivor(session, survivor, merged)
    await session.execute(update(order_drafts).where(order_drafts.c.customer_id == merged).values(customer_id=survivor))


@handlers.on(OpportunityWonV1)
async def draft_won_deal(session: AsyncSession, event: CloudEvent, payload: OpportunityWonV1) -> None:
    if not payload.draft_order:
        return
    await session.execute(
        pg_insert(order_drafts)
        .values(
            id=payload.opportunity_id,
            customer_id=payload.customer_id,
            currency=payload.currency,
            lines=[line.model_dump(mode="json") for line in payload.line_items],
            amount=payload.amount,
            owner_id=payload.owner_id,
            won_at=payload.closed_at,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )


@handlers.on(CustomerErasedV1)
async def customer_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await project_erased(session, known_customers, payload.customer_id)
    await session.execute(
        update(orders)
        .where(orders.c.customer_id == payload.customer_id)
        .values(shipping_address=None, note=None, version=orders.c.version + 1, updated_at=func.now())
    )


@coupon_handlers.on(CouponIssuedV1)
async def coupon_issued(session: AsyncSession, event: CloudEvent, payload: CouponIssuedV1) -> None:
    await project_issued(session, payload)


@coupon_handlers.on(CouponRevokedV1)
async def coupon_revoked(session: AsyncSession, event: CloudEvent, payload: CouponRevokedV1) -> None:
    await project_revoked(session, payload.coupon_id, payload.revoked_at)
