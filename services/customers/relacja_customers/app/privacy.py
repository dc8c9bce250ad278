"""GDPR access and erasure.

    export_customer(session, id)                   → CustomerExport: everything held about the customer
    erase_customer(session, id, check_version)     → the pseudonymised record (CustomerErasedV1)

The export (Art. 15) is read in one REPEATABLE READ transaction (the caller's, which must
not have run a statement yet), so its parts agree: the record, every ``RELATED_DATA``
area's export, and the customer's event log.

Erasure (Art. 17) keeps the id and the non-personal aggregates (``domain.privacy`` lists
what goes and what stays) and, in the caller's transaction: pseudonymises the row (the
normalised e-mail and phone are cleared, so they can be used again), calls every
``RELATED_DATA`` area's ``erase``, scrubs personal fields from the customer's event log
and from the outbox rows of those events still retained — unpublished ones, and published
ones too, since a broker-loss replay would publish them again — and from the stored
response of an ``Idempotency-Key`` create; marks the row ``erased_at`` and emits
``CustomerErasedV1`` for every other service to drop its copy. The record then refuses
updates and merges (409).

Erasing an erased customer changes nothing and emits nothing: the record as it is, so a
retried erasure request is safe.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import CustomerErasedV1
from relacja_messaging.tables import outbox_events
from relacja_servicekit.idempotency import idempotency_keys

from ..domain.privacy import erased_fields, scrub_payload
from ..events import emit
from ..tables import customer_event_log
from .records import fields_of, load_customer, public_of, update_customer
from .related_areas import RELATED_DATA
from .schemas import CustomerPublic

__all__ = ["EXPORT_FORMAT", "CustomerExport", "ExportedEvent", "erase_customer", "export_customer"]

EXPORT_FORMAT = "relacja.customer-export.v1"


class ExportedEvent(BaseModel):
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]


class CustomerExport(BaseModel):
    format: str = Field(default=EXPORT_FORMAT, description="The layout of this document")
    exported_at: datetime
    customer: CustomerPublic
    related: dict[str, Any] = Field(
        description="One entry per area of data held about the customer (interactions, consents, ...)"
    )
    events: list[ExportedEvent] = Field(description="Every event emitted about the customer, oldest first")


async def export_customer(session: AsyncSession, customer_id: uuid.UUID) -> CustomerExport:
    """Everything held about the customer (404 when there is no such customer)."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    row = await load_customer(session, customer_id)
    related = {area.name: await area.export(session, customer_id) for area in RELATED_DATA}
    events = (
        await session.execute(
            select(
                customer_event_log.c.event_id,
                customer_event_log.c.event_type,
                customer_event_log.c.occurred_at,
                customer_event_log.c.payload,
            )
            .where(customer_event_log.c.customer_id == customer_id)
            .order_by(customer_event_log.c.occurred_at, customer_event_log.c.id)
        )
    ).all()
    return CustomerExport(
        exported_at=datetime.now(UTC),
        customer=public_of(row),
        related=related,
        events=[ExportedEvent.model_validate(dict(event._mapping)) for event in events],
    )


async def _scrub_payloads(session: AsyncSession, customer_id: uuid.UUID) -> None:
    logged = (
        await session.execute(
            select(customer_event_log.c.id, customer_event_log.c.event_id, customer_event_log.c.payload).where(
                customer_event_log.c.customer_id == customer_id
            )
        )
    ).all()
    await _rewrite(session, customer_event_log, [(r.id, r.payload) for r in logged])
    if not logged:
        return
    retained = (
        await session.execute(
            select(outbox_events.c.id, outbox_events.c.payload).where(
                outbox_events.c.event_id.in_([r.event_id for r in logged])
            )
        )
    ).all()
    await _rewrite(session, outbox_events, [(r.id, r.payload) for r in retained])


async def _rewrite(session: AsyncSession, table: Any, rows: list[tuple[int, dict[str, Any]]]) -> None:
    changed = [
        {"row_id": row_id, "scrubbed": scrubbed}
        for row_id, payload in rows
        if (scrubbed := scrub_payload(payload)) != payload
    ]
    if changed:
        await session.execute(
            update(table).where(table.c.id == bindparam("row_id")).values(payload=bindparam("scrubbed")),
            changed,
        )


async def erase_customer(
    session: AsyncSession, customer_id: uuid.UUID, check_version: Callable[[int], None]
) -> CustomerPublic:
    """Pseudonymise the customer (404 when there is none); ``check_version`` sees the version
    of a customer not yet erased (a retry of a done erasure is answered as is, whatever its If-Match)."""
    before = await load_customer(session, customer_id, for_update=True)
    if before.erased_at is not None:
        return public_of(before)
    check_version(before.version)
    for area in RELATED_DATA:
        await area.erase(session, customer_id)
    await _scrub_payloads(session, customer_id)
    row = await update_customer(session, before, erased_fields(fields_of(before)), erased_at=func.now())
    customer = public_of(row)
    await session.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.response_body["id"].astext == str(customer_id))
        .values(response_body=customer.model_dump(mode="json"))
    )
    await emit(session, CustomerErasedV1(customer_id=customer_id, erased_at=row.erased_at))
    return customer
