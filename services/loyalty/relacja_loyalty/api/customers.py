"""``GET /api/v1/loyalty/customers/{customer_id}``: the loyalty part of the customer 360
view (memberships with balances and tiers, usable personal coupons); 404 when the
customer has neither."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import members
from ..app.schemas import CustomerLoyalty
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/loyalty/customers", tags=["loyalty"], dependencies=[RequireJson])


@router.get(
    "/{customer_id}",
    response_model=CustomerLoyalty,
    summary="A customer's memberships and usable coupons (customer 360)",
    responses=problem_responses({404: "The customer has no membership and no coupon"}),
)
async def customer_loyalty(customer_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await members.customer_loyalty(session, customer_id)
