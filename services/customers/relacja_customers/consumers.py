"""Events from other services that move a customer record along.

    OrderPlacedV1 (relacja.orders)   a lead, prospect or inactive customer who orders becomes
                                     a ``customer`` (``domain.lifecycle.stage_after``), and
                                     ``CustomerUpdatedV1`` says so
    PartnerInteractionContributedV1 (relacja.sharing)
                                     a partner's interaction on the customer's timeline,
                                     ``source`` naming the partner (``app/contributions.py``)
    PartnerLeadContributedV1 (relacja.sharing)
                                     a partner's lead as a new customer in stage ``lead``
    LeadConvertedV1 (relacja.sales)  the sales service converted the lead: a ``lead`` becomes a
                                     ``prospect`` (``stage_after``), CustomerUpdatedV1 says so
    ActivityLoggedV1 (relacja.sales) a sales call or meeting that took place, on the customer's
                                     timeline (``app/sales_effects.py``)
    MessageSentV1 (relacja.engagement) a message the engagement service sent, on the customer's
                                     timeline as an outbound interaction (``app/engagement_effects.py``)

Each handler runs in the consumer's transaction after its inbox row is written, so a
redelivered event changes nothing twice. A customer that is not here (merged away before
the event arrived) or was erased is left alone: the event is still recorded as applied.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
from relacja_contracts.events import (
    ActivityLoggedV1,
    LeadConvertedV1,
    MessageSentV1,
    OrderPlacedV1,
    PartnerInteractionContributedV1,
    PartnerLeadContributedV1,
)
from relacja_messaging import EventHandlers

from .app.contributions import record_partner_interaction, register_partner_lead
from .app.engagement_effects import record_engagement_message
from .app.records import updated_event
from .app.sales_effects import record_sales_activity
from .domain.lifecycle import Trigger, stage_after
from .events import emit
from .tables import customers
from .tables.customers import PUBLIC_COLUMNS

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on(OrderPlacedV1)
async def promote_buyer(session: AsyncSession, event: CloudEvent, payload: OrderPlacedV1) -> None:
    await _move_along(session, payload.customer_id, "order_placed")


@handlers.on(LeadConvertedV1)
async def qualify_converted_lead(session: AsyncSession, event: CloudEvent, payload: LeadConvertedV1) -> None:
    await _move_along(session, payload.customer_id, "lead_converted")


@handlers.on(ActivityLoggedV1)
async def log_sales_activity(session: AsyncSession, event: CloudEvent, payload: ActivityLoggedV1) -> None:
    await record_sales_activity(session, payload)


@handlers.on(MessageSentV1)
async def log_engagement_message(session: AsyncSession, event: CloudEvent, payload: MessageSentV1) -> None:
    await record_engagement_message(session, payload)


async def _move_along(session: AsyncSession, customer_id: uuid.UUID, trigger: Trigger) -> None:
    row = (
        await session.execute(
            select(customers.c.id, customers.c.lifecycle_stage, customers.c.erased_at)
            .where(customers.c.id == customer_id)
            .with_for_update()
        )
    ).first()
    if row is None or row.erased_at is not None:
        return
    stage = stage_after(row.lifecycle_stage, trigger)
    if stage == row.lifecycle_stage:
        return
    updated = (
        await session.execute(
            update(customers)
            .where(customers.c.id == row.id)
            .values(lifecycle_stage=stage, version=customers.c.version + 1, updated_at=func.now())
            .returning(*PUBLIC_COLUMNS)
        )
    ).one()
    await emit(session, updated_event(updated, ["lifecycle_stage"]))


@handlers.on(PartnerInteractionContributedV1)
async def apply_partner_interaction(
    session: AsyncSession, event: CloudEvent, payload: PartnerInteractionContributedV1
) -> None:
    await record_partner_interaction(session, payload)


@handlers.on(PartnerLeadContributedV1)
async def apply_partner_lead(session: AsyncSession, event: CloudEvent, payload: PartnerLeadContributedV1) -> None:
    await register_partner_lead(session, payload)
