"""``/api/v1/segmentation/customers/{id}``: a customer's analytical profile, scores and segments.

The gateway's customer-360 view reads this path; the response is additive over the first
version (customer_id, kind, lifecycle_stage, registered_at, updated_at).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from relacja_contracts.money import Amount
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.openapi import problem_responses

from ..app import profiles
from ..app.profiles import CustomerMerged, ProfileNotFound
from ..domain.loyalty import QUADRANT_INFO
from ..domain.rfm import SEGMENT_LABELS
from ..settings import get_settings

__all__ = ["router", "CustomerProfilePublic"]

router = APIRouter(prefix="/api/v1/segmentation", tags=["segmentation"])


class Money(BaseModel):
    amount: Amount
    currency: str


class RfmScore(BaseModel):
    recency: int
    frequency: int
    monetary: int
    score: str  # "RFM" digits, e.g. "545"
    segment: str
    label: str


class Quadrant(BaseModel):
    code: Literal["true_friends", "butterflies", "barnacles", "strangers"]
    label: str
    measurement: str
    treatment: str


class SegmentRef(BaseModel):
    id: uuid.UUID
    name: str


class CustomerProfilePublic(BaseModel):
    customer_id: uuid.UUID
    kind: str | None
    lifecycle_stage: str | None
    registered_at: datetime | None
    updated_at: datetime
    erased: bool
    tags: list[str]
    consents: list[str]
    purchases: int
    orders_count: int
    gross_revenue: Money
    net_revenue: Money
    margin: Money
    avg_order_value: Money | None
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    tenure_days: int | None
    recency_days: int | None
    complaints: int
    tickets: int
    satisfaction_kind: str | None
    satisfaction_score: int | None
    rfm: RfmScore | None
    abc_class: Literal["A", "B", "C"] | None
    quadrant: Quadrant | None
    scored_at: datetime | None
    segments: list[SegmentRef]


def quadrant_of(code: str | None) -> Quadrant | None:
    if code is None:
        return None
    info = QUADRANT_INFO[code]
    return Quadrant(code=code, label=info["label"], measurement=info["measurement"], treatment=info["treatment"])


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerProfilePublic,
    summary="A customer's analytical profile, RFM scores, ABC class, loyalty quadrant and segments",
    responses=problem_responses(
        {404: "No events about this customer yet, or merged into another (`merged_into` names the survivor)"}
    ),
)
async def get_profile(customer_id: uuid.UUID, session: SessionDep) -> CustomerProfilePublic:
    currency = get_settings().currency
    try:
        profile = await profiles.get_profile(session, customer_id)
    except CustomerMerged as merged:
        raise Problem(
            404, "Customer merged", str(merged), type_="not-found", extra={"merged_into": str(merged.survivor)}
        ) from None
    except ProfileNotFound as missing:
        raise Problem(404, "Profile not found", str(missing), type_="not-found") from None
    r, segments = profile.row, profile.segments

    def money(value) -> Money:
        return Money(amount=value, currency=currency)

    rfm = None
    if r["r_score"] is not None:
        rfm = RfmScore(
            recency=r["r_score"],
            frequency=r["f_score"],
            monetary=r["m_score"],
            score=f"{r['r_score']}{r['f_score']}{r['m_score']}",
            segment=r["rfm_segment"],
            label=SEGMENT_LABELS[r["rfm_segment"]],
        )
    return CustomerProfilePublic(
        customer_id=r["customer_id"],
        kind=r["kind"],
        lifecycle_stage=r["lifecycle_stage"],
        registered_at=r["registered_at"],
        updated_at=r["updated_at"],
        erased=r["erased"],
        tags=r["tags"],
        consents=r["consents"],
        purchases=r["purchases"],
        orders_count=r["orders_count"],
        gross_revenue=money(r["gross_revenue"]),
        net_revenue=money(r["net_revenue"]),
        margin=money(r["margin"]),
        avg_order_value=money(r["avg_order_value"]) if r["avg_order_value"] is not None else None,
        first_purchase_at=r["first_purchase_at"],
        last_purchase_at=r["last_purchase_at"],
        tenure_days=r["tenure_days"],
        recency_days=r["recency_days"],
        complaints=r["complaints"],
        tickets=r["tickets"],
        satisfaction_kind=r["satisfaction_kind"],
        satisfaction_score=r["satisfaction_score"],
        rfm=rfm,
        abc_class=r["abc_class"],
        quadrant=quadrant_of(r["quadrant"]),
        scored_at=r["scored_at"],
        segments=[SegmentRef(id=s.id, name=s.name) for s in segments],
    )
