"""Event handlers that keep the customer projection current.

Each runs inside the consumer's transaction, after the inbox row is written: a
redelivered event never reaches a handler twice. Handlers are still written as upserts,
so that a projection rebuilt by replaying events converges to the same rows.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
from relacja_contracts.events import CustomerRegisteredV1
from relacja_messaging import EventHandlers

from .tables import customer_profiles

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on(CustomerRegisteredV1)
async def record_registered_customer(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
    statement = pg_insert(customer_profiles).values(
        customer_id=payload.customer_id,
        kind=payload.kind,
        lifecycle_stage=payload.lifecycle_stage,
        registered_at=payload.registered_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={"kind": statement.excluded.kind, "registered_at": statement.excluded.registered_at},
        )
    )
