"""The contact history: ``/api/v1/customers/{id}/interactions`` and an agent's meetings.

    POST /api/v1/customers/{id}/interactions                   log one (Idempotency-Key); InteractionLoggedV1
    GET  /api/v1/customers/{id}/interactions                   newest first; channel, direction, agent, time filters
    GET  /api/v1/customers/{id}/interactions/{interaction_id}
    GET  /api/v1/customers/meetings?agent_id=&from=&to=        an agent's calendar, soonest first

Every path stays under ``/api/v1/customers`` (the gateway routes that prefix here).
What an interaction must look like is in ``domain/interactions.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import InteractionLoggedV1
from relacja_contracts.events.customers import InteractionChannel
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.contact import normalize_email
from ..domain.interactions import check_interaction, resolve_times
from ..events import emit
from ..related_data import RelatedData, register
from ..related_rows import claim_and_lock, forget_stored_responses, remember_created
from ..tables import interactions
from .records import load_customer

__all__ = ["router", "InteractionPublic", "interactions_by_id"]

router = APIRouter(prefix="/api/v1/customers", tags=["contact history"], dependencies=[RequireJson])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "customers.interactions.create"

Direction = Literal["inbound", "outbound", "internal"]


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: InteractionChannel
    direction: Direction
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    agent_id: str | None = Field(default=None, min_length=1, max_length=200, description="The agent who handled it")
    occurred_at: AwareDatetime | None = Field(default=None, description="Default: now; for a meeting its scheduled start")
    duration_seconds: int | None = Field(default=None, ge=0, le=7 * 86400, description="Default for a meeting: its scheduled length")
    scheduled_start: AwareDatetime | None = Field(default=None, description="Meetings only: required")
    scheduled_end: AwareDatetime | None = Field(default=None, description="Meetings only: required, after the start")
    attendee_agent_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100, description="Meetings only: agents taking part (besides agent_id)"
    )
    attendee_emails: list[EmailStr] = Field(default_factory=list, max_length=100, description="Meetings only: contacts taking part")


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
    erased_at: datetime | None = Field(description="Set when the customer's data was erased: subject, body and e-mails are gone")


InteractionsPublic = Page[InteractionPublic]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _not_found(interaction_id: uuid.UUID) -> Problem:
    return Problem(404, "Interaction not found", f"No interaction with id {interaction_id} for this customer.", type_="not-found")


@router.get(
    "/meetings",
    response_model=InteractionsPublic,
    summary="An agent's calendar: meetings not yet over, soonest first",
    description=(
        "Meetings the agent owns (`agent_id`) or attends (`attendee_agent_ids`) that end after `from` "
        "(default now) and start before `to` (default: no end)."
    ),
)
async def agent_meetings(
    session: SessionDep,
    agent_id: Annotated[str, Query(min_length=1, max_length=200)],
    start: Annotated[AwareDatetime | None, Query(alias="from", description="RFC 3339; default now")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="RFC 3339; meetings starting before it")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> InteractionsPublic:
    start = start or datetime.now(UTC)
    if end is not None and end <= start:
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
        c.calendar_agent_ids.contains([agent_id]),
        c.scheduled_end > start,
    )
    if end is not None:
        query = query.where(c.scheduled_start < end)
    return await paginate(
        session,
        query,
        keys=[c.scheduled_start, c.id],
        limit=limit,
        cursor=cursor,
        sort="scheduled_start",
        to_item=InteractionPublic.from_row,
    )


@router.post(
    "/{customer_id}/interactions",
    status_code=201,
    response_model=InteractionPublic,
    summary="Log a contact with the customer",
    responses={
        404: {"description": "No such customer", **_PROBLEM},
        409: {"description": "The customer was erased", **_PROBLEM},
        422: {"description": "Invalid body", **_PROBLEM},
    },
)
async def log_interaction(
    customer_id: uuid.UUID, body: InteractionCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    errors = check_interaction(
        body.channel,
        occurred_at=body.occurred_at,
        scheduled_start=body.scheduled_start,
        scheduled_end=body.scheduled_end,
        has_attendee_agents=bool(body.attendee_agent_ids),
        has_attendee_emails=bool(body.attendee_emails),
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
        body.channel,
        occurred_at=body.occurred_at,
        duration_seconds=body.duration_seconds,
        scheduled_start=body.scheduled_start,
        scheduled_end=body.scheduled_end,
        now=now,
    )
    async with session.begin():
        stored = await claim_and_lock(session, _CREATE_SCOPE, idempotency_key, customer_id, body)
        if stored:
            return stored
        row = (
            await session.execute(
                insert(interactions)
                .values(
                    id=uuid.uuid4(),
                    customer_id=customer_id,
                    channel=body.channel,
                    direction=body.direction,
                    subject=body.subject,
                    body=body.body,
                    agent_id=body.agent_id,
                    occurred_at=times.occurred_at,
                    duration_seconds=times.duration_seconds,
                    scheduled_start=body.scheduled_start,
                    scheduled_end=body.scheduled_end,
                    attendee_agent_ids=_unique(body.attendee_agent_ids),
                    attendee_emails=_unique([normalize_email(str(email)) or "" for email in body.attendee_emails]),
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
        payload = item.model_dump(mode="json")
        headers = {"Location": f"/api/v1/customers/{customer_id}/interactions/{item.id}"}
        return await remember_created(session, _CREATE_SCOPE, idempotency_key, payload, headers=headers)


@router.get(
    "/{customer_id}/interactions",
    response_model=InteractionsPublic,
    summary="A customer's contact history, newest first",
    responses={404: {"description": "No such customer", **_PROBLEM}},
)
async def list_interactions(
    customer_id: uuid.UUID,
    session: SessionDep,
    channel: InteractionChannel | None = None,
    direction: Direction | None = None,
    agent_id: str | None = None,
    occurred_after: Annotated[AwareDatetime | None, Query(description="Only interactions at or after this time")] = None,
    occurred_before: Annotated[AwareDatetime | None, Query(description="Only interactions before this time")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> InteractionsPublic:
    await load_customer(session, customer_id)
    c = interactions.c
    query = select(interactions).where(c.customer_id == customer_id)
    if channel:
        query = query.where(c.channel == channel)
    if direction:
        query = query.where(c.direction == direction)
    if agent_id:
        query = query.where(c.agent_id == agent_id)
    if occurred_after:
        query = query.where(c.occurred_at >= occurred_after)
    if occurred_before:
        query = query.where(c.occurred_at < occurred_before)
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


@router.get(
    "/{customer_id}/interactions/{interaction_id}",
    response_model=InteractionPublic,
    summary="One interaction",
    responses={404: {"description": "No such customer or interaction", **_PROBLEM}},
)
async def get_interaction(customer_id: uuid.UUID, interaction_id: uuid.UUID, session: SessionDep) -> InteractionPublic:
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
        select(interactions).where(interactions.c.customer_id == customer_id).order_by(interactions.c.occurred_at, interactions.c.id)
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
    await forget_stored_responses(session, _CREATE_SCOPE, customer_id)



register(RelatedData(name="interactions", rekey=_rekey, export=_export, erase=_erase))
