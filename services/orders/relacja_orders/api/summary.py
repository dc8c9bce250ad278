"""``GET /api/v1/orders/customers/{customer_id}/summary``: a customer's order history in
brief, for the gateway's customer-360 view (HTTP; the use case is ``app/summary.py``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses

from ..app.schemas import CustomerOrderSummary
from ..app.summary import customer_summary as summarise
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orders/customers", tags=["orders"])


@router.get(
    "/{customer_id}/summary",
    response_model=CustomerOrderSummary,
    summary="A customer's order count, totals per currency and last orders",
    responses=problem_responses(
        {404: "Customer unknown to the orders service (neither known from customer events nor with orders)"}
    ),
)
async def customer_summary(customer_id: uuid.UUID, session: SessionDep) -> CustomerOrderSummary:
    with app_errors():
        return await summarise(session, customer_id)
