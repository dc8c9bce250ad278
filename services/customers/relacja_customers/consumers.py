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

Placed orders and converted leads are applied a fetch's run at a time (``on_batch``): the
customers named are read and locked in one statement, those whose stage moves are updated
in one (one version step and one CustomerUpdatedV1 each, naming the stage they end at),
and the events are written at once.

Each handler runs in the consumer's transaction after its inbox row is written, so a
redelivered event changes nothing twice. A customer that is not here (merged away before
the event arrived) or was erased is left alone: the event is still recorded as applied.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import String, column, func, select, update, values
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
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
from .events import emit_many
from .tables import customers
from .tables.customers import PUBLIC_COLUMNS

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on_batch(OrderPlacedV1, LeadConvertedV1)
async def move_along(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of placed orders and converted leads: their customers read and locked in
    one statement, the ones whose stage moves updated in one, their events written at once."""
    triggers: list[tuple[uuid.UUID, Trigger]] = [
        (payload.customer_id, "order_placed" if isinstance(payload, OrderPlacedV1) else "lead_converted")
        for _, payload in events
        if isinstance(payload, OrderPlacedV1 | LeadConvertedV1)
    ]
    await _move_along(session, triggers)


@handlers.on(ActivityLoggedV1)
async def log_sales_activity(session: AsyncSession, event: CloudEvent, payload: ActivityLoggedV1) -> None:
    await record_sales_activity(session, payload)


@handlers.on(MessageSentV1)
async def log_engagement_message(session: AsyncSession, event: CloudEvent, payload: MessageSentV1) -> None:
    await record_engagement_message(session, payload)


async def _move_along(session: AsyncSession, triggers: Sequence[tuple[uuid.UUID, Trigger]]) -> None:
    ids = sorted({customer_id for customer_id, _ in triggers})  # locked in id order: no deadlock with another batch
    rows = (
        await session.execute(
            select(customers.c.id, customers.c.lifecycle_stage, customers.c.erased_at)
            .where(customers.c.id.in_(ids))
            .order_by(customers.c.id)
            .with_for_update()
        )
    ).all()
    # Customers not here (merged away) or erased are left alone; the others take each trigger in order.
    before = {row.id: row.lifecycle_stage for row in rows if row.erased_at is None}
    after = dict(before)
    for customer_id, trigger in triggers:
        if customer_id in after:
            after[customer_id] = stage_after(after[customer_id], trigger)
    moved = {customer_id: stage for customer_id, stage in after.items() if stage != before[customer_id]}
    if not moved:
        return
    # One version step and one CustomerUpdatedV1 per customer that moved, naming where it ended up.
    target = values(column("id", UUID(as_uuid=True)), column("stage", String), name="moved").data(sorted(moved.items()))
    updated = (
        await session.execute(
            update(customers)
            .where(customers.c.id == target.c.id)
            .values(lifecycle_stage=target.c.stage, version=customers.c.version + 1, updated_at=func.now())
            .returning(*PUBLIC_COLUMNS)
        )
    ).all()
    await emit_many(session, [updated_event(row, ["lifecycle_stage"]) for row in updated])


@handlers.on(PartnerInteractionContributedV1)
async def apply_partner_interaction(
    session: AsyncSession, event: CloudEvent, payload: PartnerInteractionContributedV1
) -> None:
    await record_partner_interaction(session, payload)


@handlers.on(PartnerLeadContributedV1)
async def apply_partner_lead(session: AsyncSession, event: CloudEvent, payload: PartnerLeadContributedV1) -> None:
    await register_partner_lead(session, payload)
