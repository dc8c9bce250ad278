"""Partners' contributions applied to the customer master (the rules: ``domain/contributions.py``).

    record_partner_interaction(session, PartnerInteractionContributedV1)
        → the interaction on the customer's timeline (InteractionLoggedV1)
    register_partner_lead(session, PartnerLeadContributedV1)
        → a new customer in stage lead (CustomerRegisteredV1) and the partner's note, or,
          when the e-mail or phone is taken, a note on that customer (CustomersMergedV1
          lead id → that customer)

Both run in the consumer's transaction (the inbox row makes a redelivery a no-op) and are
idempotent on their own too: the interaction or note id is the contribution id, the
lead's customer id is the one sharing assigned. As everywhere in this service, nothing is
recorded about an erased customer, and a customer merged away before the event arrived
is gone (the event is applied as a no-op).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import (
    CustomersMergedV1,
    InteractionLoggedV1,
    PartnerInteractionContributedV1,
    PartnerLeadContributedV1,
)

from ..domain.contact import normalize_email, normalize_phone, validate_email_address
from ..domain.contributions import (
    interaction_subject,
    lead_fields,
    lead_note_body,
    lead_note_subject,
    partner_source,
)
from ..domain.customer import apply_changes, derived_columns
from ..events import emit
from ..tables import customers, interactions
from .records import insert_customer, registered_event
from .related_rows import lock_customers

__all__ = ["add_interaction", "record_partner_interaction", "register_partner_lead"]

# Sharing sends phones in E.164 (``+`` and the country code), so no default region applies.
_NO_REGION = "ZZ"


async def _lock_live(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    """Lock the customer's row (writes of its events serialise, see related_rows); False when gone or erased."""
    if not await lock_customers(session, [customer_id]):
        return False
    erased_at = await session.scalar(select(customers.c.erased_at).where(customers.c.id == customer_id))
    return erased_at is None


async def add_interaction(
    session: AsyncSession,
    *,
    interaction_id: uuid.UUID,
    customer_id: uuid.UUID,
    values: dict[str, Any],
) -> None:
    """Insert the interaction unless it is there already, and emit ``InteractionLoggedV1`` once."""
    row = (
        await session.execute(
            pg_insert(interactions)
            .values(id=interaction_id, customer_id=customer_id, **values)
            .on_conflict_do_nothing(index_elements=[interactions.c.id])
            .returning(*interactions.c)
        )
    ).first()
    if row is None:
        return
    await emit(
        session,
        InteractionLoggedV1(
            customer_id=customer_id,
            interaction_id=row.id,
            channel=row.channel,
            direction=row.direction,
            agent_id=row.agent_id,
            occurred_at=row.occurred_at,
            duration_seconds=row.duration_seconds,
        ),
    )


async def record_partner_interaction(session: AsyncSession, payload: PartnerInteractionContributedV1) -> None:
    if not await _lock_live(session, payload.customer_id):
        return
    contributed = payload.interaction
    await add_interaction(
        session,
        interaction_id=payload.contribution_id,
        customer_id=payload.customer_id,
        values={
            "channel": contributed.channel,
            "direction": contributed.direction,
            "subject": interaction_subject(contributed.kind, payload.partner_name),
            "body": contributed.summary,
            "occurred_at": contributed.occurred_at,
            "duration_seconds": contributed.duration_seconds,
            "source": partner_source(
                partner_id=payload.partner_id,
                partner_name=payload.partner_name,
                agreement_id=payload.agreement_id,
                contribution_id=payload.contribution_id,
                activity=contributed.kind,
            ),
        },
    )


def _valid_email(email: str | None) -> str | None:
    # Sharing validated it with the same library; a rule that differs here must not lose the lead.
    if email is None:
        return None
    try:
        return validate_email_address(email)
    except ValueError:
        return None


def _valid_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    try:
        return normalize_phone(phone, _NO_REGION)
    except ValueError:
        return None


async def _existing_with_contact(session: AsyncSession, fields: dict[str, Any]) -> uuid.UUID | None:
    """The customer that already has the lead's e-mail or phone (the unique duplicate keys)."""
    email_key = derived_columns(fields)["email_normalized"]
    keys = [(customers.c.email_normalized, email_key), (customers.c.phone, fields.get("phone"))]
    wanted = [column == value for column, value in keys if value is not None]
    if not wanted:
        return None
    return await session.scalar(select(customers.c.id).where(or_(*wanted)).order_by(customers.c.id).limit(1))


async def register_partner_lead(session: AsyncSession, payload: PartnerLeadContributedV1) -> None:
    if await session.scalar(select(customers.c.id).where(customers.c.id == payload.customer_id)) is not None:
        return  # registered by an earlier delivery of this event
    lead = payload.lead
    fields = apply_changes(
        "person", {}, lead_fields(lead.name, _valid_email(lead.email), _valid_phone(lead.phone), lead.company)
    )
    source = partner_source(
        partner_id=payload.partner_id,
        partner_name=payload.partner_name,
        agreement_id=payload.agreement_id,
        contribution_id=payload.contribution_id,
    )
    existing = await _existing_with_contact(session, fields)
    if existing is not None:
        await _attach_to_existing(session, payload, existing, source)
        return
    row = await insert_customer(session, "person", fields, customer_id=payload.customer_id, source=source)
    await emit(session, registered_event(row))
    if lead.note:
        await add_interaction(
            session,
            interaction_id=payload.contribution_id,
            customer_id=row.id,
            values=_note(payload, lead_note_body(lead.model_dump(), duplicate=False), source),
        )


def _note(payload: PartnerLeadContributedV1, body: str | None, source: dict[str, Any]) -> dict[str, Any]:
    occurred_at: datetime = payload.occurred_at
    return {
        "channel": "note",
        "direction": "inbound",
        "subject": lead_note_subject(payload.partner_name),
        "body": body,
        "occurred_at": occurred_at,
        "source": source,
    }


async def _attach_to_existing(
    session: AsyncSession, payload: PartnerLeadContributedV1, existing: uuid.UUID, source: dict[str, Any]
) -> None:
    """The lead is a customer already: a note on it, and the lead id announced as merged into it,
    so whoever keyed something by the lead id (sharing's identifiers, sales) re-keys it."""
    if not await _lock_live(session, existing):
        return
    lead = payload.lead.model_dump()
    lead["email"] = normalize_email(lead.get("email"))
    await add_interaction(
        session,
        interaction_id=payload.contribution_id,
        customer_id=existing,
        values=_note(payload, lead_note_body(lead, duplicate=True), source),
    )
    await emit(
        session,
        CustomersMergedV1(customer_id=existing, merged_customer_id=payload.customer_id, merged_at=payload.received_at),
    )
