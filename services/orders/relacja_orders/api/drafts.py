"""``/api/v1/orders/drafts``: draft orders the sales service asked for when a deal was won.

    GET /api/v1/orders/drafts?customer_id=...   a customer's drafts, newest first
    GET /api/v1/orders/drafts/{id}              one draft (its id is the won opportunity's)

Drafts are written only by the ``OpportunityWonV1`` handler (consumers.py); placing an order
from one is an ordinary ``POST /api/v1/orders``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from relacja_contracts.money import Amount
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.models import RowModel

from ..tables import order_drafts

__all__ = ["router", "OrderDraftPublic", "OrderDraftsPublic"]

router = APIRouter(prefix="/api/v1/orders/drafts", tags=["orders"])


class OrderDraftPublic(RowModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    currency: str
    lines: list[dict[str, Any]]
    amount: Amount
    owner_id: str
    won_at: datetime
    created_at: datetime


class OrderDraftsPublic(BaseModel):
    items: list[OrderDraftPublic]


@router.get("", response_model=OrderDraftsPublic, summary="A customer's draft orders from won deals, newest first")
async def list_drafts(customer_id: uuid.UUID, session: SessionDep) -> OrderDraftsPublic:
    rows = (
        await session.execute(
            select(order_drafts)
            .where(order_drafts.c.customer_id == customer_id)
            .order_by(order_drafts.c.won_at.desc(), order_drafts.c.id)
            .limit(100)
        )
    ).all()
    return OrderDraftsPublic(items=[OrderDraftPublic.from_row(row) for row in rows])


@router.get("/{draft_id}", response_model=OrderDraftPublic, summary="One draft order (id: the won opportunity's)")
async def get_draft(draft_id: uuid.UUID, session: SessionDep) -> OrderDraftPublic:
    row = (await session.execute(select(order_drafts).where(order_drafts.c.id == draft_id))).first()
    if row is None:
        raise Problem(404, "Draft not found", f"No draft order with id {draft_id}.", type_="not-found")
    return OrderDraftPublic.from_row(row)
