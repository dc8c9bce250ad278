"""Consents: what a customer allowed, recorded as an append-only history.

    ConsentChange / ConsentRecordPublic / CurrentConsents    the command and the views
    record_consent(session, id, change, principal)           → (changed?, the current record)
    current_consents / consent_history                       the state of each consent / every record
    RELATED                                                  merge, export and erasure of consents

The rules (current state = latest record, no-op on an unchanged status, out-of-order
records refused, state after a merge) are in ``domain/consents.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import ConsentGrantedV1, ConsentWithdrawnV1
from relacja_contracts.events.customers import ConsentPurpose
from relacja_servicekit import Problem
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import Page, paginate

from ..domain.consents import OutOfOrder, changed_states, check_consent, current_states, decide
from ..events import emit
from ..tables import consent_records
from .records import load_customer
from .related_data import RelatedData
from .related_rows import forget_stored_responses, lock_customer
from .schemas import AwareTimestamp

__all__ = [
    "CREATE_SCOPE",
    "RELATED",
    "ConsentChange",
    "ConsentHistory",
    "ConsentRecordPublic",
    "ConsentStatus",
    "CurrentConsents",
    "consent_history",
    "current_consents",
    "record_consent",
]

#: The Idempotency-Key scope of recording a consent (erasure forgets its stored answers).
CREATE_SCOPE = "customers.consents.record"

ConsentStatus = Literal["granted", "withdrawn"]


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: ConsentPurpose
    status: ConsentStatus
    source: str = Field(min_length=1, max_length=100, examples=["web-form", "call-centre", "import"])
    evidence: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Proof: free text or a reference (form id, recording)"
    )
    partner_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only for partner_sharing: required"
    )
    partner_purpose: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Only for partner_sharing: required",
        examples=["delivery"],
    )
    occurred_at: AwareTimestamp | None = Field(
        default=None, description="When the customer said so (not in the future); default now"
    )
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


def _check(change: ConsentChange, now: datetime) -> None:
    errors = check_consent(change.purpose, change.partner_id, change.partner_purpose, change.occurred_at, now=now)
    if errors:
        raise Problem(
            422,
            "Validation failed",
            "The consent change is not valid.",
            type_="validation-error",
            errors=[{"field": f"body.{field}", "message": message} for field, message in errors],
        )


async def record_consent(
    session: AsyncSession, customer_id: uuid.UUID, change: ConsentChange, principal: str | None
) -> tuple[bool, ConsentRecordPublic]:
    """Grant or withdraw: ``(True, the new record)`` with its event, or ``(False, the current
    record)`` when the status is already the current one. 422 for an invalid change, 404 /
    409 for a missing / erased customer, 409 ``consent-out-of-order`` before a later record."""
    now = datetime.now(UTC)
    _check(change, now)
    occurred_at = change.occurred_at or now
    await lock_customer(session, customer_id)  # also serialises changes of one customer's consents
    current = (
        await session.execute(
            select(consent_records)
            .where(
                consent_records.c.customer_id == customer_id,
                *_key_filter(change.purpose, change.partner_id, change.partner_purpose),
            )
            .order_by(consent_records.c.occurred_at.desc(), consent_records.c.seq.desc())
            .limit(1)
        )
    ).first()
    try:
        decision = decide(current, change.status, occurred_at)
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
        return False, ConsentRecordPublic.from_row(current)
    row = (
        await session.execute(
            insert(consent_records)
            .values(
                id=uuid.uuid4(),
                customer_id=customer_id,
                consent_id=current.consent_id if current else uuid.uuid4(),
                purpose=change.purpose,
                partner_id=change.partner_id,
                partner_purpose=change.partner_purpose,
                status=change.status,
                source=change.source,
                evidence=change.evidence,
                recorded_by=change.recorded_by or principal,
                occurred_at=occurred_at,
            )
            .returning(*consent_records.c)
        )
    ).one()
    await emit(session, _event(row))
    return True, ConsentRecordPublic.from_row(row)


async def current_consents(session: AsyncSession, customer_id: uuid.UUID, purpose: str | None) -> CurrentConsents:
    """The latest record of each consent (404 when there is no such customer)."""
    await load_customer(session, customer_id)
    query = _current_query(customer_id)
    if purpose:
        query = query.where(consent_records.c.purpose == purpose)
    rows = (await session.execute(query)).all()
    return CurrentConsents(items=[ConsentRecordPublic.from_row(row) for row in rows])


async def consent_history(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    purpose: str | None,
    partner_id: str | None,
    limit: int,
    cursor: str | None,
) -> ConsentHistory:
    """Every record, newest first (404 when there is no such customer)."""
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


async def _current(session: AsyncSession, customer_id: uuid.UUID) -> dict[Any, Any]:
    return current_states((await session.execute(_current_query(customer_id))).all())


async def _rekey(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    """Both histories move to the survivor, whole; its state is derived again from all of them
    (latest record per consent), and every consent whose state changed for the survivor is
    announced with the event of its now-current record."""
    before = await _current(session, to_id)
    await session.execute(
        update(consent_records).where(consent_records.c.customer_id == from_id).values(customer_id=to_id)
    )
    for record in changed_states(before, await _current(session, to_id)):
        await emit(session, _event(record))


async def _export(session: AsyncSession, customer_id: uuid.UUID) -> dict[str, Any]:
    c = consent_records.c
    history = (
        await session.execute(
            select(consent_records).where(c.customer_id == customer_id).order_by(c.occurred_at, c.seq)
        )
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
    await forget_stored_responses(session, CREATE_SCOPE, customer_id)


RELATED = RelatedData(name="consents", rekey=_rekey, export=_export, erase=_erase)
