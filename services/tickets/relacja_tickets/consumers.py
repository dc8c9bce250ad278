"""Event handlers of the ``tickets.events`` consumer group.

    CustomerRegisteredV1 the customer may open tickets (``known_customers``; a customer not seen
                        yet is looked up once at the customers service, see app/tickets.py)
    CustomersMergedV1   re-key tickets, surveys and known orders of the merged customer to the survivor;
                        the merged id can open no more tickets
    CustomerErasedV1    no new tickets; drop personal data: ticket subjects and descriptions, comment bodies,
                        survey comments, stored Idempotency-Key responses; unanswered surveys
                        expire (their tokens stop working)
    OrderPlacedV1       remember the order (id, customer, placed_at) for "complaints per 1,000 orders"

Registrations and placed orders are applied a fetch's run at a time, one INSERT each
(``on_batch``); the consumer falls back to one at a time if that transaction fails.
Each runs in the consumer's transaction after its inbox row, so a redelivery is never
applied twice; each is also idempotent on its own (a replay converges to the same rows).
No ticket event is emitted: re-keying and erasure change no ticket's state, and the
customers service already announced them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Text, and_, cast, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import CustomerErasedV1, CustomerRegisteredV1, CustomersMergedV1, OrderPlacedV1
from relacja_messaging import EventHandlers
from relacja_servicekit.idempotency import idempotency_keys
from relacja_servicekit.known_customers import project_erased, project_merged, project_registered_many

from .tables import known_customers, known_orders, surveys, ticket_comments, tickets

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on_batch(CustomerRegisteredV1)
async def know_customers(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of registrations in one INSERT."""
    registered = [payload for _, payload in events if isinstance(payload, CustomerRegisteredV1)]
    await project_registered_many(session, known_customers, [(p.customer_id, None) for p in registered])


@handlers.on(CustomersMergedV1)
async def rekey_merged_customer(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await project_merged(session, known_customers, payload.customer_id, payload.merged_customer_id)
    for table in (tickets, surveys, known_orders):
        await session.execute(
            update(table)
            .where(table.c.customer_id == payload.merged_customer_id)
            .values(customer_id=payload.customer_id)
        )


@handlers.on(CustomerErasedV1)
async def erase_customer_data(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    customer_id, erased_at = payload.customer_id, payload.erased_at
    await project_erased(session, known_customers, customer_id)
    their_tickets = select(tickets.c.id).where(tickets.c.customer_id == customer_id)
    await session.execute(
        update(tickets)
        .where(tickets.c.customer_id == customer_id)
        .values(subject=None, description=None, erased_at=erased_at)
    )
    await session.execute(
        update(ticket_comments)
        .where(ticket_comments.c.ticket_id.in_(their_tickets))
        .values(body=None, erased_at=erased_at)
    )
    await session.execute(update(surveys).where(surveys.c.customer_id == customer_id).values(comment=None))
    # Stored first responses of Idempotency-Key requests hold subjects and comment bodies too.
    stored = idempotency_keys.c
    await session.execute(
        delete(idempotency_keys).where(
            or_(
                and_(stored.scope == "tickets.create", stored.response_body["customer_id"].astext == str(customer_id)),
                and_(
                    stored.scope.startswith("tickets.comments.create:"),
                    stored.response_body["ticket_id"].astext.in_(
                        select(cast(tickets.c.id, Text)).where(tickets.c.customer_id == customer_id)
                    ),
                ),
            )
        )
    )
    await session.execute(
        update(surveys)
        .where(surveys.c.customer_id == customer_id, surveys.c.answered_at.is_(None), surveys.c.expires_at > erased_at)
        .values(expires_at=erased_at)
    )


@handlers.on_batch(OrderPlacedV1)
async def remember_orders(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of placed orders in one INSERT; an order seen before (replay) stays as it is."""
    placed = [payload for _, payload in events if isinstance(payload, OrderPlacedV1)]
    rows: dict[uuid.UUID, dict[str, object]] = {}
    for p in placed:  # one row per order (one INSERT may not name a key twice): the first, as one by one
        rows.setdefault(p.order_id, {"order_id": p.order_id, "customer_id": p.customer_id, "placed_at": p.placed_at})
    await session.execute(
        pg_insert(known_orders).on_conflict_do_nothing(index_elements=["order_id"]), list(rows.values())
    )
