"""Event handlers of the ``sales.projection`` consumer group.

    CustomerRegisteredV1  the customer may have deals (``known_customers``); a customer
                          registered in stage ``lead`` becomes a lead (source ``import`` if
                          imported, else ``manual``; owner: the customer's owner) — a
                          fetch's run of registrations in two INSERTs (``on_batch``)
    PartnerLeadContributedV1  (relacja.sharing) a partner's lead: a lead with source ``partner``
                          and the partner's id (whichever of this and the customer's
                          registration comes first; the customers service registers it too)
    CustomersMergedV1     deals, activities and the lead of the merged customer move to the
                          survivor (a lead the survivor already has wins); the merged id takes
                          no new deals
    CustomerErasedV1      no new deals; free text that may hold personal data is cleared:
                          deal names and next steps, activity subjects, and the stored
                          Idempotency-Key responses of creates about the customer

Each runs in the consumer's transaction after its inbox row, so a redelivery is never
applied twice; each is also idempotent on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, exists, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    PartnerLeadContributedV1,
)
from relacja_messaging import EventHandlers
from relacja_servicekit.idempotency import idempotency_keys
from relacja_servicekit.known_customers import project_erased, project_merged, project_registered_many

from .app.leads import NewLead, project_lead, project_leads
from .tables import activities, known_customers, leads, opportunities

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on_batch(CustomerRegisteredV1)
async def know_customers(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of registrations: one INSERT of the customers, one of the new leads."""
    registered = [payload for _, payload in events if isinstance(payload, CustomerRegisteredV1)]
    await project_registered_many(session, known_customers, [(p.customer_id, None) for p in registered])
    await project_leads(
        session,
        [
            NewLead(
                p.customer_id,
                source="import" if p.imported else "manual",
                owner_id=p.owner_id,
                created_at=p.registered_at,
            )
            for p in registered
            if p.lifecycle_stage == "lead"
        ],
    )


@handlers.on(PartnerLeadContributedV1)
async def partner_lead(session: AsyncSession, event: CloudEvent, payload: PartnerLeadContributedV1) -> None:
    await project_lead(
        session,
        payload.customer_id,
        source="partner",
        owner_id=None,
        created_at=payload.received_at,
        partner_id=str(payload.partner_id),
    )


@handlers.on(CustomersMergedV1)
async def rekey_merged_customer(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    survivor, merged = payload.customer_id, payload.merged_customer_id
    await project_merged(session, known_customers, survivor, merged)
    for table in (opportunities, activities):
        await session.execute(update(table).where(table.c.customer_id == merged).values(customer_id=survivor))
    survivor_has_lead = exists().where(leads.c.customer_id == survivor)
    await session.execute(
        update(leads).where(leads.c.customer_id == merged, ~survivor_has_lead).values(customer_id=survivor)
    )
    await session.execute(delete(leads).where(leads.c.customer_id == merged))


@handlers.on(CustomerErasedV1)
async def erase_customer_data(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    customer_id = payload.customer_id
    await project_erased(session, known_customers, customer_id)
    await session.execute(
        update(opportunities).where(opportunities.c.customer_id == customer_id).values(name=None, next_step=None)
    )
    await session.execute(update(activities).where(activities.c.customer_id == customer_id).values(subject=None))
    stored = idempotency_keys.c
    await session.execute(
        delete(idempotency_keys).where(
            and_(
                stored.scope.startswith("sales."),
                (stored.response_body["customer_id"].astext == str(customer_id))
                | (stored.response_body["opportunity"]["customer_id"].astext == str(customer_id)),
            )
        )
    )
