"""Leads: customers in lifecycle stage ``lead`` the sales team works on, and their conversion.

A lead arrives as a customer registered in stage ``lead`` (a web form or by hand: source
``manual``; a bulk import: ``import``) or as a partner's contribution (``partner``), on
``relacja.customers`` / ``relacja.sharing`` (consumers.py: ``project_lead``). Its owner is
the customer's owner, if any; managers assign the others (``assign``).

``convert`` is idempotent: the first call creates the opportunity (OpportunityCreatedV1),
marks the lead converted and emits ``LeadConvertedV1`` (the customers service moves the
customer to ``prospect``); every later call returns the same opportunity and changes
nothing. The lead row is locked first, so two concurrent calls also yield one deal
(``opportunities.lead_customer_id`` is unique as a second line).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import LeadConvertedV1
from relacja_servicekit.customer_directory import CustomerDirectory
from relacja_servicekit.etags import check_if_match
from relacja_servicekit.pagination import Page, paginate

from ..domain.access import Caller, can_see
from ..events import emit
from ..tables import leads, opportunities
from .common import invalid, not_found, visible
from .opportunities import create_opportunity

__all__ = ["NewLead", "project_lead", "project_leads", "list_leads", "get_lead", "assign", "convert"]


async def project_lead(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    source: str,
    owner_id: str | None,
    created_at: datetime,
    partner_id: str | None = None,
) -> None:
    """Remember a new lead; a lead already known stays as it is (redelivery, replay) — except
    that a partner's contribution names the source of a lead whose registration came first
    (both events arrive, on two topics, in either order)."""
    statement = pg_insert(leads).values(
        customer_id=customer_id,
        source=source,
        partner_id=partner_id,
        owner_id=owner_id,
        status="open",
        created_at=created_at,
        version=1,
    )
    if partner_id is None:
        await session.execute(statement.on_conflict_do_nothing(index_elements=["customer_id"]))
        return
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"], set_={"source": source, "partner_id": partner_id}
        )
    )


@dataclass(frozen=True)
class NewLead:
    customer_id: uuid.UUID
    source: str
    owner_id: str | None
    created_at: datetime


async def project_leads(session: AsyncSession, new: Sequence[NewLead]) -> None:
    """``project_lead`` without a partner for each, in one INSERT: a known lead stays as it is,
    and of two for one customer the first wins (as one by one)."""
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    for lead in new:
        rows.setdefault(
            lead.customer_id,
            {
                "customer_id": lead.customer_id,
                "source": lead.source,
                "partner_id": None,
                "owner_id": lead.owner_id,
                "status": "open",
                "created_at": lead.created_at,
                "version": 1,
            },
        )
    if rows:
        await session.execute(
            pg_insert(leads).on_conflict_do_nothing(index_elements=["customer_id"]), list(rows.values())
        )


async def list_leads(
    session: AsyncSession, caller: Caller, *, status: str | None, limit: int, cursor: str | None
) -> Page[Any]:
    c = leads.c
    query = select(leads).where(visible(caller, c.owner_id, c.team))
    if status is not None:
        query = query.where(c.status == status)
    return await paginate(
        session,
        query,
        keys=[c.created_at, c.customer_id],
        limit=limit,
        cursor=cursor,
        sort="-created_at",
        descending=True,
        to_item=lambda row: row,
    )


async def get_lead(session: AsyncSession, caller: Caller, customer_id: uuid.UUID, *, lock: bool = False) -> Any:
    c = leads.c
    query = select(leads).where(c.customer_id == customer_id, visible(caller, c.owner_id, c.team))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("lead", customer_id)
    return row


async def assign(
    session: AsyncSession,
    caller: Caller,
    customer_id: uuid.UUID,
    owner_id: str,
    team: str | None,
    *,
    if_match: str | None,
) -> Any:
    row = await get_lead(session, caller, customer_id, lock=True)
    check_if_match(if_match, row.version, what="lead")
    if not can_see(caller, owner_id, team):
        raise invalid("body.owner_id", "you may assign leads only to yourself or within what you may see")
    return (
        await session.execute(
            update(leads)
            .where(leads.c.customer_id == customer_id)
            .values(owner_id=owner_id, team=team, version=leads.c.version + 1)
            .returning(leads)
        )
    ).one()


async def convert(
    session: AsyncSession,
    directory: CustomerDirectory,
    caller: Caller,
    customer_id: uuid.UUID,
    values: Mapping[str, Any],
    now: datetime,
) -> tuple[Any, Any, bool]:
    """(lead, opportunity, created now?)."""
    lead = await get_lead(session, caller, customer_id, lock=True)
    if lead.status == "converted":
        deal = (await session.execute(select(opportunities).where(opportunities.c.id == lead.opportunity_id))).one()
        return lead, deal, False
    deal = await create_opportunity(
        session,
        directory,
        caller,
        {
            "owner_id": lead.owner_id or caller.id,
            "team": lead.team,
            "source": lead.source,
            **{k: v for k, v in values.items() if v is not None},
            "customer_id": customer_id,
        },
        now,
        lead_customer_id=customer_id,
    )
    lead = (
        await session.execute(
            update(leads)
            .where(leads.c.customer_id == customer_id)
            .values(status="converted", opportunity_id=deal.id, converted_at=now, version=leads.c.version + 1)
            .returning(leads)
        )
    ).one()
    await emit(
        session,
        LeadConvertedV1(customer_id=customer_id, opportunity_id=deal.id, converted_by=caller.id, occurred_at=now),
    )
    return lead, deal, True
