"""Inbound contributions: a partner posts interactions and leads (the rules: ``domain/contributions.py``).

    InteractionContributionCreate / LeadContributionCreate   the body of POST /partner/v1/contributions
    ContributionCreate                                       either, by ``type`` (a discriminated union)
    PartnerContribution / StaffContribution                  what a partner / the staff read
    submit_contribution(session, partner_id, command)        → PartnerContribution (+ its event)
    get_contribution / list_contributions                    a partner's own, or any for staff
    erase_contributions / rekey_contributions                the customer's erasure and merge

``submit_contribution`` checks everything before it writes anything: the agreement (the
caller's, in force, taking contributions), the fields the agreement allows, the customer
reference (only through the identifiers this partner was given: ``sharing_recipients``);
then, in the caller's transaction, the contribution row and its event through the outbox
(``PartnerInteractionContributedV1`` / ``PartnerLeadContributedV1``, keyed by the customer),
so nothing is half-written. A lead gets a new customer id here; the identifier the partner
sees for it (by the agreement's identifier kind) is recorded as given to the partner, so it
can report interactions with its lead later.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import ColumnElement, Text, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import PartnerInteractionContributedV1, PartnerLeadContributedV1
from relacja_contracts.events.sharing import (
    ContributedInteraction,
    ContributedLead,
    PartnerContactChannel,
    PartnerInteractionKind,
)
from relacja_servicekit.pagination import Page, paginate
from relacja_servicekit.types import JsonInteger, Timestamp

from ..domain.contributions import ContributionType, check_fields, check_occurred_at, takes_contributions
from ..domain.identifiers import HmacPads, pseudonym
from ..tables import agreements, contributions, partners, recipients
from .errors import InvalidContribution, NotFound, PartnerUnavailable
from .events import emit
from .recipients import resolve_identifier

__all__ = [
    "ContributionCreate",
    "ContributionFilter",
    "InteractionContributionCreate",
    "LeadContributionCreate",
    "PartnerContribution",
    "PartnerContributions",
    "StaffContribution",
    "StaffContributions",
    "erase_contributions",
    "get_contribution",
    "list_contributions",
    "rekey_contributions",
    "submit_contribution",
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset (RFC 3339)")
    return value


_AwareTimestamp = Annotated[Timestamp, AfterValidator(_aware)]
_Text = Annotated[str, Field(min_length=1, max_length=2000)]
_Reference = Annotated[str, Field(min_length=1, max_length=200, description="The partner's own id of it")]


class InteractionContributionCreate(BaseModel):
    """A contact of the partner with a customer it was given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["interaction"]
    agreement_id: uuid.UUID = Field(description="The caller's inbound agreement it is contributed under")
    customer_ref: str = Field(
        min_length=1, max_length=320, description="The customer's identifier exactly as this partner was given it"
    )
    kind: PartnerInteractionKind
    channel: PartnerContactChannel
    direction: Literal["inbound", "outbound"] = Field(
        description="inbound: the customer contacted the partner; outbound: the partner contacted the customer"
    )
    occurred_at: _AwareTimestamp = Field(description="RFC 3339; not in the future")
    summary: _Text | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=86_400), JsonInteger] | None = None
    external_reference: _Reference | None = None


class LeadContributionCreate(BaseModel):
    """A prospect the partner registers (a reseller's lead)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["lead"]
    agreement_id: uuid.UUID = Field(description="The caller's inbound agreement it is contributed under")
    name: str = Field(min_length=1, max_length=200, pattern=r"\S", examples=["Anna Kowalska"])
    email: EmailStr | None = None
    phone: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164", examples=["+48600123456"]
    )
    company: str | None = Field(default=None, min_length=1, max_length=200)
    note: _Text | None = None
    external_reference: _Reference | None = None


ContributionCreate = Annotated[InteractionContributionCreate | LeadContributionCreate, Field(discriminator="type")]


class InteractionData(BaseModel):
    kind: PartnerInteractionKind
    channel: PartnerContactChannel
    direction: Literal["inbound", "outbound"]
    occurred_at: datetime
    summary: str | None = None
    duration_seconds: int | None = None
    external_reference: str | None = None


class LeadData(BaseModel):
    name: str | None = Field(description="Null once the customer's data was erased")
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    note: str | None = None
    external_reference: str | None = None


class PartnerContribution(BaseModel):
    """A contribution as the partner that made it reads it (no internal customer id)."""

    id: uuid.UUID
    type: ContributionType
    agreement_id: uuid.UUID
    agreement_version: int
    customer_ref: str | None = Field(
        description="The customer as this partner knows it: the reference it sent, or for a lead the identifier "
        "it may use from now on (null once the customer's data was erased)"
    )
    received_at: datetime
    interaction: InteractionData | None = Field(description="For type interaction")
    lead: LeadData | None = Field(description="For type lead")
    erased_at: datetime | None = Field(description="Set when the customer's data was erased: the details are gone")


class StaffContribution(PartnerContribution):
    """A contribution as the company's staff read it: also who made it and which customer it is about."""

    partner_id: uuid.UUID
    partner_name: str
    customer_id: uuid.UUID


PartnerContributions = Page[PartnerContribution]
StaffContributions = Page[StaffContribution]


def _invalid(errors: list[tuple[str, str]]) -> InvalidContribution:
    return InvalidContribution([{"field": f"body.{field}", "message": message} for field, message in errors])


async def _agreement_of(session: AsyncSession, partner_id: uuid.UUID, agreement_id: uuid.UUID) -> Any:
    """The caller's agreement, locked against a concurrent state change (404 when it is not the caller's,
    as on every partner route: another partner's agreement and a missing one are the same answer)."""
    row = (
        await session.execute(
            select(agreements)
            .where(agreements.c.id == agreement_id, agreements.c.partner_id == partner_id)
            # FOR SHARE: a suspension or a change of terms waits for this contribution (and the
            # contribution for them), while contributions under one agreement do not wait for each other.
            .with_for_update(read=True)
        )
    ).first()
    if row is None:
        raise NotFound("Agreement", None)
    return row


def _check_in_force(agreement: Any, now: datetime) -> None:
    if agreement.status != "active":
        raise PartnerUnavailable("agreement", agreement.status)
    if agreement.valid_from > now:
        raise PartnerUnavailable("agreement", "not_yet_valid")
    if agreement.valid_until is not None and agreement.valid_until <= now:
        raise PartnerUnavailable("agreement", "expired")
    if not takes_contributions(agreement.direction):
        raise _invalid(
            [("agreement_id", f"the agreement does not take contributions (direction {agreement.direction})")]
        )


async def _identifier_for_lead(
    session: AsyncSession, partner: Any, agreement: Any, customer_id: uuid.UUID, command: LeadContributionCreate
) -> str:
    """What the partner will call its lead: the identifier kind its agreement discloses."""
    if agreement.identifier == "customer_id":
        return str(customer_id)
    if agreement.identifier == "email":
        if command.email is None:
            raise _invalid([("email", "required: this agreement identifies customers by e-mail")])
        return str(command.email).lower()
    return pseudonym(HmacPads(partner.pseudonym_ipad, partner.pseudonym_opad), customer_id)


async def submit_contribution(
    session: AsyncSession, partner_id: uuid.UUID, command: InteractionContributionCreate | LeadContributionCreate
) -> PartnerContribution:
    """Accept one contribution (404 not the caller's agreement, 403 not in force, 422 not allowed or unknown
    reference) and emit its event."""
    now = datetime.now(UTC)
    partner = (await session.execute(select(partners).where(partners.c.id == partner_id))).first()
    if partner is None:
        raise PartnerUnavailable("partner", "unknown")
    if partner.status != "active":
        raise PartnerUnavailable("partner", partner.status)
    agreement = await _agreement_of(session, partner_id, command.agreement_id)
    _check_in_force(agreement, now)
    sent = command.model_fields_set - {"type", "agreement_id"}
    errors = check_fields(command.type, sent, agreement.allowed_fields)
    if isinstance(command, InteractionContributionCreate):
        errors += check_occurred_at(command.occurred_at, now)
    if errors:
        raise _invalid(errors)
    contribution_id = uuid.uuid4()
    common: dict[str, Any] = {
        "contribution_id": contribution_id,
        "partner_id": partner_id,
        "partner_name": partner.legal_name,
        "agreement_id": agreement.id,
        "agreement_version": agreement.version,
        "received_at": now,
    }
    event: PartnerInteractionContributedV1 | PartnerLeadContributedV1
    if isinstance(command, InteractionContributionCreate):
        resolved = await resolve_identifier(session, partner_id, command.customer_ref)
        if resolved is None:
            raise _invalid([("customer_ref", "unknown customer reference")])
        customer_id = resolved
        customer_ref = command.customer_ref
        data = command.model_dump(mode="json", exclude={"type", "agreement_id", "customer_ref"})
        event = PartnerInteractionContributedV1(
            **common,
            customer_id=customer_id,
            occurred_at=command.occurred_at,
            interaction=ContributedInteraction.model_validate(data),
        )
    else:
        customer_id = uuid.uuid4()
        customer_ref = await _identifier_for_lead(session, partner, agreement, customer_id, command)
        data = command.model_dump(mode="json", exclude={"type", "agreement_id"})
        if data["email"] is not None:
            data["email"] = data["email"].lower()
        event = PartnerLeadContributedV1(
            **common, customer_id=customer_id, occurred_at=now, lead=ContributedLead.model_validate(data)
        )
        # The partner may name its lead from now on, like a customer disclosed to it.
        await session.execute(
            pg_insert(recipients)
            .values(agreement_id=agreement.id, customer_id=customer_id, partner_id=partner_id, identifier=customer_ref)
            .on_conflict_do_nothing()
        )
    row = (
        await session.execute(
            insert(contributions)
            .values(
                id=contribution_id,
                partner_id=partner_id,
                agreement_id=agreement.id,
                agreement_version=agreement.version,
                type=command.type,
                customer_id=customer_id,
                customer_ref=customer_ref,
                data=data,
                received_at=now,
            )
            .returning(*contributions.c)
        )
    ).one()
    await emit(session, event)
    return PartnerContribution.model_validate(_view(row))


def _view(row: Any, partner_name: str | None = None) -> dict[str, Any]:
    view = dict(row._mapping)
    data = view.pop("data")
    view["interaction"] = data if row.type == "interaction" else None
    view["lead"] = data if row.type == "lead" else None
    if partner_name is not None:
        view["partner_name"] = partner_name
    return view


class ContributionFilter(BaseModel):
    partner_id: uuid.UUID | None = None
    agreement_id: uuid.UUID | None = None
    type: ContributionType | None = None
    customer_id: uuid.UUID | None = None


def _where(where: ContributionFilter) -> list[ColumnElement[bool]]:
    c = contributions.c
    clauses: list[ColumnElement[bool]] = []
    if where.partner_id is not None:
        clauses.append(c.partner_id == where.partner_id)
    if where.agreement_id is not None:
        clauses.append(c.agreement_id == where.agreement_id)
    if where.type is not None:
        clauses.append(c.type == where.type)
    if where.customer_id is not None:
        clauses.append(c.customer_id == where.customer_id)
    return clauses


async def get_contribution(
    session: AsyncSession, contribution_id: uuid.UUID, *, partner_id: uuid.UUID | None = None
) -> StaffContribution:
    """One contribution; with ``partner_id`` only that partner's (another partner's is 404, as a missing one)."""
    query = (
        select(contributions, partners.c.legal_name.label("partner_name"))
        .join(partners, partners.c.id == contributions.c.partner_id)
        .where(contributions.c.id == contribution_id)
    )
    if partner_id is not None:
        query = query.where(contributions.c.partner_id == partner_id)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("Contribution", contribution_id)
    return StaffContribution.model_validate(_view(row))


async def list_contributions(
    session: AsyncSession, where: ContributionFilter, *, limit: int, cursor: str | None
) -> StaffContributions:
    """Contributions matching ``where``, newest first (a partner's list sets ``partner_id`` to the caller)."""
    c = contributions.c
    query = (
        select(contributions, partners.c.legal_name.label("partner_name"))
        .join(partners, partners.c.id == c.partner_id)
        .where(*_where(where))
    )
    return await paginate(
        session,
        query,
        keys=[c.received_at, c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-received_at",
        to_item=lambda row: StaffContribution.model_validate(_view(row)),
    )


# -- the customer's erasure and merge (consumers.py) -----------------------------------------


# What a contribution says about the person: a lead's every field, an interaction's free text
# and the partner's reference (which links to the partner's own records of the person).
_PERSONAL = ("name", "email", "phone", "company", "note", "summary", "external_reference")


async def erase_contributions(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """Drop what partners said about the customer (a lead's contact data, a summary); keep that they did."""
    c = contributions.c
    await session.execute(
        update(contributions)
        .where(c.customer_id == customer_id, c.erased_at.is_(None))
        .values(data=c.data.op("-")(literal(list(_PERSONAL), ARRAY(Text))), customer_ref=None, erased_at=func.now())
    )


async def rekey_contributions(session: AsyncSession, merged_id: uuid.UUID, surviving_id: uuid.UUID) -> None:
    await session.execute(
        update(contributions).where(contributions.c.customer_id == merged_id).values(customer_id=surviving_id)
    )
