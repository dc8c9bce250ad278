"""What the sales service's events change in the customer master.

    record_sales_activity(session, ActivityLoggedV1)
        → a call (channel ``phone``) or meeting (``meeting``) of a sales rep on the customer's
          timeline; InteractionLoggedV1. Sales reps are the company's staff, so ``source`` is
          null as for what staff log here; the interaction id is the sales activity's id

Runs in the consumer's transaction; the interaction id being the activity id, a redelivered
event adds nothing twice. Nothing is recorded for an erased customer, or one merged away.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import ActivityLoggedV1

from ..tables import customers
from .contributions import add_interaction
from .related_rows import lock_customers

__all__ = ["record_sales_activity"]

_CHANNELS = {"call": "phone", "meeting": "meeting"}


async def record_sales_activity(session: AsyncSession, payload: ActivityLoggedV1) -> None:
    if not await lock_customers(session, [payload.customer_id]):
        return
    if await session.scalar(select(customers.c.erased_at).where(customers.c.id == payload.customer_id)) is not None:
        return
    meeting = payload.kind == "meeting"
    await add_interaction(
        session,
        interaction_id=payload.activity_id,
        customer_id=payload.customer_id,
        values={
            "channel": _CHANNELS[payload.kind],
            "direction": "outbound",
            "subject": "Sales meeting" if meeting else "Sales call",
            "agent_id": payload.assignee_id,
            "occurred_at": payload.occurred_at,
            "duration_seconds": payload.duration_seconds,
            # A meeting on the timeline has its time span (the customers service's meetings do).
            "scheduled_start": payload.occurred_at if meeting else None,
            "scheduled_end": payload.occurred_at + timedelta(seconds=payload.duration_seconds or 0)
            if meeting
            else None,
        },
    )
