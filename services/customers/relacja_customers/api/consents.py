"""Consents: ``/api/v1/customers/{id}/consents``.

    POST /api/v1/customers/{id}/consents            grant or withdraw (Idempotency-Key)
                                                    201: recorded, event emitted
                                                    200: same as the current state, nothing recorded
    GET  /api/v1/customers/{id}/consents            the current state of each consent
    GET  /api/v1/customers/{id}/consents/history    every record, newest first (cursor-paginated)

The rules (current state = latest record, no-op on an unchanged status, out-of-order
records refused, state after a merge) are in ``domain/consents.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import ConsentGrantedV1, ConsentWithdrawnV1
from relacja_contracts.events.customers import ConsentPurpose
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.consents import OutOfOrder, changed_states, check_consent, current_states, decide
from ..events import emit
from ..related_data import RelatedData, register
from ..related_rows import claim_and_lock, forget_stored_responses, remember_created
from ..tables import consent_records
from .records import load_customer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["consents"], dependencies=[RequireJson])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "customers.consents.record"

ConsentStatus = Literal["granted", "withdrawn"]

PrincipalHeader = Annotated[
    str | None,
    Header(alias="X-Relacja-Principal", include_in_schema=False, description="Set by the gateway: the caller"),
]


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: ConsentPurpose
    status: ConsentStatus
    source: str = Field(min_length=1, max_length=100, examples=["web-form", "call-centre", "import"])
    evidence: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Proof: free text or a reference (form id, recording)"
    )
    partner_id: str | None = Field(default=None, min_length=1, max_length=200, description="Only for partner_sharing: required")
    partner_purpose: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only for partner_sharing: required", examples=["delivery"]
    )
    occurred_at: AwareDatetime | None = Field(default=None, description="When the customer said so; default now")
    recorded_by: str | None = Field(
        default=None, min_length=1, max_length=200, description="Who records it; default the authenticated caller"
    )


class ConsentRecordPublic(RowModel):
    id: uuid.UUID = Field(description="This record")
    consent_id: uuid.UUID = Field(description="The consent (purpose, partner, partner purpose) the record belongs to")
    customer_id: uuid.UUID
    purpose: ConsentPurpose
    partner_id: str | None
    partner_purpose: str | None
    status: ConsentStatus
    source: str
    evidence: str | None
    recorded_by: str | None
    occurred_at: datetime
    recorded_at: datetime


class CurrentConsents(BaseModel):
    items: list[ConsentRecordPublic] = Field(
        description="The latest record of each consent ever recorded; a consent not listed was never given"
    )


ConsentHistory = Page[ConsentRecordPublic]


def _key_filter(purpose: str, partner_id: str | None, partner_purpose: str | None) -> list[ColumnElement[bool]]:
    c = consent_records.c
    return [
        c.purpose == purpose,
        c.partner_id.is_(None) if partner_id is None else c.partner_id == partner_id,
        c.partner_purpose.is_(None) if partner_purpose is None else c.partner_purpose == partner_purpose,
    ]


def _current_query(customer_id: uuid.UUID) -> Any:
    c = consent_records.c
    return (
        select(consent_records)
        .where(c.customer_id == customer_id)
        .distinct(c.purpose, c.partner_id, c.partner_purpose)
        .order_by(c.purpose, c.partner_id, c.partner_purpose, c.occurred_at.desc(), c.seq.desc())
    )


def _event(record: Any) -> ConsentGrantedV1 | ConsentWithdrawnV1:
    event_type = ConsentGrantedV1 if record.status == "granted" else ConsentWithdrawnV1
    return event_type(
        customer_id=record.customer_id,
        consent_id=record.consent_id,
        purpose=record.purpose,
        partner_id=record.partner_id,
        partner_purpose=record.partner_purpose,
        source=record.source,
        occurred_at=record.occurred_at,
    )


@router.post(
    "/{customer_id}/consents",
    status_code=201,
    response_model=ConsentRecordPublic,
    summary="Grant or withdraw a consent",
    description=(
        "201 with the new record when the consent's state changes (and ConsentGranted/ConsentWithdrawn is "
        "emitted); 200 with the current record, recording nothing, when the status is already the current one."
    ),
    responses={
        200: {"description": "Unchanged: the status is already the current one", "model": ConsentRecordPublic},
        404: {"description": "No such customer", **_PROBLEM},
        409: {"description": "A later record of this consent exists, or the customer was erased", **_PROBLEM},
        422: {"description": "Invalid body", **_PROBLEM},
    },
)
async def record_consent(
    customer_id: uuid.UUID,
    body: ConsentChange,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
    principal: PrincipalHeader = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    errors = check_consent(body.purpose, body.partner_id, body.partner_purpose, body.occurred_at, now=now)
    if errors:
        raise Problem(
            422,
            "Validation failed",
            "The consent change is not valid.",
            type_="validation-error",
            errors=[{"field": f"body.{field}", "message": message} for field, message in errors],
        )
    occurred_at = body.occurred_at or now
    async with session.begin():
        # The lock serialises changes of one customer's consents.
        stored = await claim_and_lock(session, _CREATE_SCOPE, idempotency_key, customer_id, body)
        if stored:
            return stored
        current = (
            await session.execute(
                select(consent_records)
                .where(consent_records.c.customer_id == customer_id, *_key_filter(body.purpose, body.partner_id, body.partner_purpose))
                .order_by(consent_records.c.occurred_at.desc(), consent_records.c.seq.desc())
                .limit(1)
            )
        ).first()
        try:
            decision = decide(current, body.status, occurred_at)
        except OutOfOrder as error:
            raise Problem(
                409,
                "Out-of-order consent record",
                f"This consent has a later record (occurred at {error.current_occurred_at.isoformat()}); "
                "a change cannot be recorded before it.",
                type_="consent-out-of-order",
                errors=[{"field": "body.occurred_at", "message": "earlier than the consent's current record"}],
            ) from None
        if decision == "unchanged":
            status_code, row = 200, current
        else:
            status_code = 201
            row = (
                await session.execute(
                    insert(consent_records)
                    .values(
                        id=uuid.uuid4(),
                        customer_id=customer_id,
                        consent_id=current.consent_id if current else uuid.uuid4(),
                        purpose=body.purpose,
                        partner_id=body.partner_id,
                        partner_purpose=body.partner_purpose,
                        status=body.status,
                        source=body.source,
                        evidence=body.evidence,
                        recorded_by=body.recorded_by or principal,
                        occurred_at=occurred_at,
                    )
                    .returning(*consent_records.c)
                )
            ).one()
            await emit(session, _event(row))
        payload = ConsentRecordPublic.from_row(row).model_dump(mode="json")
        return await remember_created(session, _CREATE_SCOPE, idempotency_key, payload, status_code=status_code)


@router.get(
    "/{customer_id}/consents",
    response_model=CurrentConsents,
    summary="The current state of a customer's consents",
    responses={404: {"description": "No such customer", **_PROBLEM}},
)
async def current_consents(
    customer_id: uuid.UUID, session: SessionDep, purpose: ConsentPurpose | None = None
) -> CurrentConsents:
    await load_customer(session, customer_id)
    query = _current_query(customer_id)
    if purpose:
        query = query.where(consent_records.c.purpose == purpose)
    rows = (await session.execute(query)).all()
    return CurrentConsents(items=[ConsentRecordPublic.from_row(row) for row in rows])


@router.get(
    "/{customer_id}/consents/history",
    response_model=ConsentHistory,
    summary="Every consent record of a customer, newest first",
    responses={404: {"description": "No such customer", **_PROBLEM}},
)
async def consent_history(
    customer_id: uuid.UUID,
    session: SessionDep,
    purpose: ConsentPurpose | None = None,
    partner_id: str | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ConsentHistory:
    await load_customer(session, customer_id)
    query = select(consent_records).where(consent_records.c.customer_id == customer_id)
    if purpose:
        query = query.where(consent_records.c.purpose == purpose)
    if partner_id:
        query = query.where(consent_records.c.partner_id == partner_id)
    return await paginate(
        session,
        query,
        keys=[consent_records.c.occurred_at, consent_records.c.seq],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-occurred_at",
        to_item=ConsentRecordPublic.from_row,
    )


# -- merge, export, erasure (related_data.py) ---------------------------------------------


async def _current(session: AsyncSession, customer_id: uuid.UUID) -> dict:
    return current_states((await session.execute(_current_query(customer_id))).all())


async def _rekey(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    """Both histories move to the survivor, whole; its state is derived again from all of them
    (latest record per consent), and every consent whose state changed for the survivor is
    announced with the event of its now-current record."""
    before = await _current(session, to_id)
    await session.execute(update(consent_records).where(consent_records.c.customer_id == from_id).values(customer_id=to_id))
    for record in changed_states(before, await _current(session, to_id)):
        await emit(session, _event(record))


async def _export(session: AsyncSession, customer_id: uuid.UUID) -> dict[str, Any]:
    c = consent_records.c
    history = (
        await session.execute(select(consent_records).where(c.customer_id == customer_id).order_by(c.occurred_at, c.seq))
    ).all()
    current = current_states(history).values()
    return {
        "current": [ConsentRecordPublic.from_row(row).model_dump(mode="json") for row in current],
        "history": [ConsentRecordPublic.from_row(row).model_dump(mode="json") for row in history],
    }


async def _erase(session: AsyncSession, customer_id: uuid.UUID) -> None:
    # The records stay: they prove what the customer allowed and when. The evidence may hold
    # personal data (a signature scan reference, a quoted message), so it goes.
    await session.execute(
        update(consent_records)
        .where(consent_records.c.customer_id == customer_id)
        .values(evidence=None, erased_at=func.now())
    )
    await forget_stored_responses(session, _CREATE_SCOPE, customer_id)



register(RelatedData(name="consents", rekey=_rekey, export=_export, erase=_erase))
