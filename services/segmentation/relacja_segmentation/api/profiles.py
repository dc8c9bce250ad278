"""``/api/v1/segmentation/customers/{id}``: a customer's analytical profile."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import select

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.models import RowModel

from ..tables import customer_profiles

__all__ = ["router", "CustomerProfilePublic"]

router = APIRouter(prefix="/api/v1/segmentation", tags=["segmentation"])


class CustomerProfilePublic(RowModel):
    customer_id: uuid.UUID
    kind: str
    lifecycle_stage: str
    registered_at: datetime
    updated_at: datetime


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerProfilePublic,
    summary="A customer's analytical profile",
    responses={404: {"description": "No events about this customer yet", "content": {"application/problem+json": {}}}},
)
async def get_profile(customer_id: uuid.UUID, session: SessionDep) -> CustomerProfilePublic:
    row = (await session.execute(select(customer_profiles).where(customer_profiles.c.customer_id == customer_id))).first()
    if row is None:
        raise Problem(404, "Profile not found", f"No events about customer {customer_id} have been applied yet.", type_="not-found")
    return CustomerProfilePublic.from_row(row)
