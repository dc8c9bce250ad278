"""The contact history: interactions with a customer and an agent's meetings.

    InteractionCreate / InteractionPublic / InteractionsPublic   the command and the views
    log_interaction(session, id, command)                        → the interaction (InteractionLoggedV1)
    list_interactions / get_interaction / interactions_by_id     the customer's history
    agent_meetings(session, AgentCalendar, limit, cursor)        an agent's calendar
    RELATED                                                      merge, export and erasure of interactions

What an interaction must look like is in ``domain/interactions.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import InteractionLoggedV1
from relacja_contracts.events.customers import InteractionChannel
from relacja_servicekit import Problem
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import Page, paginate
from relacja_servicekit.types import Integer

from ..domain.contact import normalize_email
from ..domain.interactions import check_interaction, resolve_times
from ..events import emit
from ..tables import interactions
from .records import load_customer
from .related_data import RelatedData
from .related_rows import forget_stored_responses, lock_customer
from .schemas import AwareTimestamp, PartnerSource

__all__ = [
    "CREATE_SCOPE",
    "RELATED",
    "AgentCalendar",
    "Direction",
    "InteractionCreate",
    "InteractionFilter",
    "InteractionPublic",
    "InteractionsPublic",
    "agent_meetings",
    "get_interaction",
    "interactions_by_id",
    "list_interactions",
    "log_interaction",
]

#: The Idempotency-Key scope of logging an interaction (erasure forgets its stored answers).
CREATE_SCOPE = "customers.interactions.create"

Direction = Literal["inbound", "outbound", "internal"]
_AgentId = Annotated[str, Field(min_length=1, max_length=200)]


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: InteractionChannel
    direction: Direction
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    agent_id: _AgentId | None = Field(default=None, description="The agent who handled it")
    occurred_at: AwareTimestamp | None = Field(
        default=None, description="Default: now; for a meeting its scheduled start"
    )
    duration_seconds: Integer | None = Field(
        default=None, ge=0, le=7 * 86400, description="Default for a meeting: its scheduled length"
    )
    scheduled_start: AwareTimestamp | None = Field(default=None, description="Meetings only: required")
    scheduled_end: AwareTimestamp | None = Field(default=None, description="Meetings only: required, after the start")
    attendee_agent_ids: list[_AgentId] = Field(
        default_factory=list, max_length=100, description="Meetings only: agents taking part (besides agent_id)"
    )
    attendee_emails: list[EmailStr] = Field(
        default_factory=list, max_length=100, description="Meetings only: contacts taking part"
    )


class InteractionPublic(RowModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    channel: InteractionChannel
    direction: Direction
    subject: str | None
    body: str | None
    agent_id: str | None
    occurred_at: datetime
    duration_seconds: int | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    attendee_agent_ids: list[str]
    attendee_emails: list[str]
    created_at: datetime
    erased_at: datetime | None = Field(
        description="Set when the customer's data was erased: subject, body and e-mails are gone"
    )
    source: PartnerSource | None = Field(
        default=None, description="The partner that reported it (its id is then the contribution id); null for staff"
    )


InteractionsPublic = Page[InteractionPublic]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _not_found(interaction_id: uuid.UUID) -> Problem:
    return Problem(
        404, "Interaction not found", f"No interaction with id {interaction_id} for this customer.", type_="not-found"
    )


@dataclass(frozen=True)
class AgentCalendar:
    agent_id: str
    start: datetime | None = None  # meetings ending after it; default now
    end: datetime | None = None  # meetings starting before it; default no end


async def agent_meetings(
    session: AsyncSession, calendar: AgentCalendar, *, limit: int, cursor: str | None
) -> InteractionsPublic:
    """Meetings the agent owns or attends that are not over, soonest first (400 when ``end`` is not after ``start``)."""
    start = calendar.start or datetime.now(UTC)
    if calendar.end is not None and calendar.end <= start:
        raise Problem(
            400,
            "Invalid parameter",
            "'to' must be after 'from'.",
            type_="invalid-parameter",
            errors=[{"field": "query.to", "message": "must be after 'from'"}],
        )
    c = interactions.c
    query = select(interactions).where(
        c.scheduled_start.is_not(None),
        c.calendar_agent_ids.contains([calendar.agent_id]),
        c.scheduled_end > start,
    )
    if calendar.end is not None:
        query = query.where(c.scheduled_start < calendar.end)
    return await paginate(
        session,
        query,
        keys=[c.scheduled_start, c.id],
        limit=limit,
        cursor=cursor,
        sort="scheduled_start",
        to_item=InteractionPublic.from_row,
    )


async def log_interaction(
    session: AsyncSession, customer_id: uuid.UUID, command: InteractionCreate
) -> InteractionPublic:
    """Record a contact (422 invalid, 404 / 409 for a missing / erased customer) and emit ``InteractionLoggedV1``."""
    now = datetime.now(UTC)
    errors = check_interaction(
        command.channel,
        occurred_at=command.occurred_at,
        scheduled_start=command.scheduled_start,
        scheduled_end=command.scheduled_end,
        has_attendee_agents=bool(command.attendee_agent_ids),
        has_attendee_emails=bool(command.attendee_emails),
        now=now,
    )
    if errors:
        raise Problem(
            422,
            "Validation failed",
            "The interaction is not valid.",
            type_="validation-error",
            errors=[{"field": f"body.{field}", "message": message} for field, message in errors],
        )
    times = resolve_times(
        command.channel,
        occurred_at=command.occurred_at,
        duration_seconds=command.duration_seconds,
        scheduled_start=command.scheduled_start,
        scheduled_end=command.scheduled_end,
        now=now,
    )
    await lock_customer(session, customer_id)
    row = (
        await session.execute(
            insert(interactions)
            .values(
                id=uuid.uuid4(),
                customer_id=customer_id,
                channel=command.channel,
                direction=command.direction,
                subject=command.subject,
                body=command.body,
                agent_id=command.agent_id,
                occurred_at=times.occurred_at,
                duration_seconds=times.duration_seconds,
                scheduled_start=command.scheduled_start,
                scheduled_end=command.scheduled_end,
                attendee_agent_ids=_unique(command.attendee_agent_ids),
                attendee_emails=_unique([normalize_email(str(email)) or "" for email in command.attendee_emails]),
            )
            .returning(*interactions.c)
        )
    ).one()
    item = InteractionPublic.from_row(row)
    await emit(
        session,
        InteractionLoggedV1(
            customer_id=customer_id,
            interaction_id=item.id,
            channel=item.channel,
            direction=item.direction,
            agent_id=item.agent_id,
            occurred_at=item.occurred_at,
            duration_seconds=item.duration_seconds,
        ),
    )
    return item


@dataclass(frozen=True)
class InteractionFilter:
    channel: str | None = None
    direction: str | None = None
    agent_id: str | None = None
    occurred_after: datetime | None = None  # inclusive
    occurred_before: datetime | None = None  # exclusive


async def list_interactions(
    session: AsyncSession, customer_id: uuid.UUID, where: InteractionFilter, *, limit: int, cursor: str | None
) -> InteractionsPublic:
    """The customer's contact history, newest first (404 when there is no such customer)."""
    await load_customer(session, customer_id)
    c = interactions.c
    query = select(interactions).where(c.customer_id == customer_id)
    if where.channel:
        query = query.where(c.channel == where.channel)
    if where.direction:
        query = query.where(c.direction == where.direction)
    if where.agent_id:
        query = query.where(c.agent_id == where.agent_id)
    if where.occurred_after:
        query = query.where(c.occurred_at >= where.occurred_after)
    if where.occurred_before:
        query = query.where(c.occurred_at < where.occurred_before)
    return await paginate(
        session,
        query,
        keys=[c.occurred_at, c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-occurred_at",
        to_item=InteractionPublic.from_row,
    )


async def get_interaction(
    session: AsyncSession, customer_id: uuid.UUID, interaction_id: uuid.UUID
) -> InteractionPublic:
    """One interaction (404 for a missing customer or interaction)."""
    row = (
        await session.execute(
            select(interactions).where(interactions.c.id == interaction_id, interactions.c.customer_id == customer_id)
        )
    ).first()
    if row is None:
        await load_customer(session, customer_id)
        raise _not_found(interaction_id)
    return InteractionPublic.from_row(row)


async def interactions_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, InteractionPublic]:
    """The interactions with these ids (for the timeline)."""
    if not ids:
        return {}
    rows = await session.execute(select(interactions).where(interactions.c.id.in_(ids)))
    return {row.id: InteractionPublic.from_row(row) for row in rows}


# -- merge, export, erasure (related_data.py) ---------------------------------------------


async def _rekey(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    await session.execute(update(interactions).where(interactions.c.customer_id == from_id).values(customer_id=to_id))


async def _export(session: AsyncSession, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(interactions)
        .where(interactions.c.customer_id == customer_id)
        .order_by(interactions.c.occurred_at, interactions.c.id)
    )
    return [InteractionPublic.from_row(row).model_dump(mode="json") for row in rows]


async def _erase(session: AsyncSession, customer_id: uuid.UUID) -> None:
    # What was said and who else (by e-mail) took part is personal; that a contact of a
    # channel happened, when, how long and with which agent is kept (contact statistics).
    await session.execute(
        update(interactions)
        .where(interactions.c.customer_id == customer_id, interactions.c.erased_at.is_(None))
        .values(subject=None, body=None, attendee_emails=[], erased_at=func.now())
    )
    await forget_stored_responses(session, CREATE_SCOPE, customer_id)


RELATED = RelatedData(name="interactions", rekey=_rekey, export=_export, erase=_erase)
