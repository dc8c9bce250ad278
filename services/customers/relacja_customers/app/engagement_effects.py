"""What the engagement service's events change in the customer master.

    record_engagement_message(session, MessageSentV1)
        → the message on the customer's timeline as an outbound interaction (e-mail on
          channel ``email``, SMS on ``phone``, push as a ``note``); InteractionLoggedV1.
          No agent: the engagement service sent it. The interaction id is the message id

Runs in the consumer's transaction; the interaction id being the message id, a redelivered
event adds nothing twice. Nothing is recorded for an erased customer, or one merged away.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import MessageSentV1

from ..tables import customers
from .contributions import add_interaction
from .related_rows import lock_customers

__all__ = ["record_engagement_message"]

_CHANNELS = {"email": "email", "sms": "phone", "push": "note"}
_SUBJECTS = {"email": "E-mail", "sms": "SMS", "push": "Push notification"}


async def record_engagement_message(session: AsyncSession, payload: MessageSentV1) -> None:
    if not await lock_customers(session, [payload.customer_id]):
        return
    if await session.scalar(select(customers.c.erased_at).where(customers.c.id == payload.customer_id)) is not None:
        return
    what = "campaign" if payload.campaign_id else "trigger"
    await add_interaction(
        session,
        interaction_id=payload.message_id,
        customer_id=payload.customer_id,
        values={
            "channel": _CHANNELS[payload.channel],
            "direction": "outbound",
            "subject": f"{_SUBJECTS[payload.channel]} ({payload.purpose}, {what}) from the engagement service",
            "agent_id": None,
            "occurred_at": payload.sent_at,
            "duration_seconds": None,
            "scheduled_start": None,
            "scheduled_end": None,
        },
    )
