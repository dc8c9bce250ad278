"""Distributions and recomputation:

    GET  /api/v1/segmentation/rfm               customers and revenue share per RFM segment
    GET  /api/v1/segmentation/abc               customers and revenue share per ABC class
    GET  /api/v1/segmentation/loyalty-matrix    the four quadrants with measurement and treatment
    POST /api/v1/segmentation/recomputations    full recomputation now (optionally at a reference date)
    GET  /api/v1/segmentation/recomputations/latest   when the scores were last recomputed, and how
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from relacja_contracts.money import Amount
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.validation import RequireJson

from ..domain.abc import ABC_CLASSES
from ..domain.loyalty import QUADRANT_INFO, QUADRANTS
from ..domain.rfm import RFM_SEGMENTS, SEGMENT_LABELS
from ..app.scoring import recompute_all
from ..settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/segmentation", tags=["segmentation"])

PROBLEM = {"content": {"application/problem+json": {}}}


class Basis(BaseModel):
    computed_at: datetime | None = Field(description="Last full recomputation (null: never; nobody is scored yet)")
    reference_date: date | None
    currency: str
    customers_scored: int
    total_net_revenue: Amount


class RfmBucket(BaseModel):
    segment: str
    label: str
    customers: int
    customer_share: float
    net_revenue: Amount
    revenue_share: float


class RfmDistribution(Basis):
    segments: list[RfmBucket]
    mapping: str = Field(description="How scores map to names")


class AbcBucket(BaseModel):
    abc_class: str
    customers: int
    customer_share: float
    net_revenue: Amount
    revenue_share: float


class AbcDistribution(Basis):
    cutoffs: dict[str, float]
    straddling_rule: str
    classes: list[AbcBucket]


class QuadrantBucket(BaseModel):
    quadrant: str
    label: str
    customers: int
    net_revenue: Amount
    margin: Amount
    measurement: str
    treatment: str


class LoyaltyMatrix(Basis):
    profit_threshold: Amount = Field(description="Median margin of scored customers: profitable = margin > 0 and ≥ this")
    loyalty_rule: str
    quadrants: list[QuadrantBucket]


RFM_MAPPING = (
    "Scores 1–5 by quintile of rank (5 = best); name from (R, F): R≥4&F≥4 champions (R=5) / loyal (R=4); "
    "R=3&F≥4 loyal; R≥4&F 2–3 potential_loyalist; R=5&F=1 new; R=4&F=1 promising; R=3&F=3 need_attention; "
    "R=3&F≤2 about_to_sleep; R≤2&F 3–4 at_risk; R≤2&F=5 cannot_lose_them; R=2&F≤2 hibernating; R=1&F≤2 lost."
)
STRADDLING_RULE = (
    "Customers sorted by net revenue, highest first (ties: lower customer id first); a customer is A when the "
    "cumulative share before it is below cut-off a, B when below b, else C — the customer crossing a cut-off "
    "falls into the upper class."
)


async def _basis(session) -> tuple[dict, Decimal]:
    state = (await session.execute(text("SELECT computed_at, reference_date, customers_scored, parameters, boundaries FROM scoring_state WHERE id = 1"))).first()
    total = await session.scalar(text("SELECT coalesce(sum(net_revenue), 0) FROM customer_profiles WHERE rfm_segment IS NOT NULL"))
    basis = {
        "computed_at": state.computed_at if state else None,
        "reference_date": state.reference_date if state else None,
        "currency": get_settings().currency,
        "customers_scored": await session.scalar(text("SELECT count(*) FROM customer_profiles WHERE rfm_segment IS NOT NULL")),
        "total_net_revenue": total,
    }
    return basis | {"_state": state}, total


def _share(part: Decimal | int, whole: Decimal | int) -> float:
    return round(float(part) / float(whole), 6) if whole else 0.0


@router.get("/rfm", response_model=RfmDistribution, summary="RFM distribution: customers and revenue share per segment")
async def rfm_distribution(session: SessionDep) -> RfmDistribution:
    basis, total = await _basis(session)
    rows = dict(
        (r.rfm_segment, r)
        for r in (
            await session.execute(
                text("SELECT rfm_segment, count(*) AS n, sum(net_revenue) AS revenue FROM customer_profiles WHERE rfm_segment IS NOT NULL GROUP BY rfm_segment")
            )
        ).all()
    )
    n = basis["customers_scored"]
    buckets = [
        RfmBucket(
            segment=s,
            label=SEGMENT_LABELS[s],
            customers=rows[s].n if s in rows else 0,
            customer_share=_share(rows[s].n if s in rows else 0, n),
            net_revenue=rows[s].revenue if s in rows else Decimal(0),
            revenue_share=_share(rows[s].revenue if s in rows else 0, total),
        )
        for s in RFM_SEGMENTS
    ]
    basis.pop("_state")
    return RfmDistribution(**basis, segments=buckets, mapping=RFM_MAPPING)


@router.get("/abc", response_model=AbcDistribution, summary="ABC distribution by net revenue")
async def abc_distribution(session: SessionDep) -> AbcDistribution:
    basis, total = await _basis(session)
    state = basis.pop("_state")
    rows = dict(
        (r.abc_class, r)
        for r in (
            await session.execute(
                text("SELECT abc_class, count(*) AS n, sum(net_revenue) AS revenue FROM customer_profiles WHERE abc_class IS NOT NULL GROUP BY abc_class")
            )
        ).all()
    )
    n = basis["customers_scored"]
    cutoffs = state.parameters["abc_cutoffs"] if state else {"a": get_settings().abc_cutoff_a, "b": get_settings().abc_cutoff_b}
    classes = [
        AbcBucket(
            abc_class=c,
            customers=rows[c].n if c in rows else 0,
            customer_share=_share(rows[c].n if c in rows else 0, n),
            net_revenue=rows[c].revenue if c in rows else Decimal(0),
            revenue_share=_share(rows[c].revenue if c in rows else 0, total),
        )
        for c in ABC_CLASSES
    ]
    return AbcDistribution(**basis, cutoffs=cutoffs, straddling_rule=STRADDLING_RULE, classes=classes)


@router.get("/loyalty-matrix", response_model=LoyaltyMatrix, summary="Loyalty matrix (Reinartz & Kumar): quadrants, measurement and treatment")
async def loyalty_matrix(session: SessionDep) -> LoyaltyMatrix:
    basis, _ = await _basis(session)
    state = basis.pop("_state")
    rows = dict(
        (r.quadrant, r)
        for r in (
            await session.execute(
                text(
                    "SELECT quadrant, count(*) AS n, sum(net_revenue) AS revenue, sum(margin) AS margin "
                    "FROM customer_profiles WHERE quadrant IS NOT NULL GROUP BY quadrant"
                )
            )
        ).all()
    )
    loyalty = state.parameters["loyalty"] if state else {"min_purchases": get_settings().loyal_min_purchases, "max_recency_days": get_settings().loyal_max_recency_days}
    threshold = Decimal(state.boundaries["profit_threshold"]) / 10_000 if state else Decimal(0)
    quadrants = [
        QuadrantBucket(
            quadrant=q,
            label=QUADRANT_INFO[q]["label"],
            customers=rows[q].n if q in rows else 0,
            net_revenue=rows[q].revenue if q in rows else Decimal(0),
            margin=rows[q].margin if q in rows else Decimal(0),
            measurement=QUADRANT_INFO[q]["measurement"],
            treatment=QUADRANT_INFO[q]["treatment"],
        )
        for q in QUADRANTS
    ]
    rule = (
        f"Loyal: at least {loyalty['min_purchases']} purchase days and the last purchase at most "
        f"{loyalty['max_recency_days']} days before the reference date."
    )
    return LoyaltyMatrix(**basis, profit_threshold=threshold, loyalty_rule=rule, quadrants=quadrants)


class RecomputationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference_date: date | None = Field(default=None, description="Recency is measured to this day (default: today, UTC)")


class Recomputation(BaseModel):
    reference_date: date
    customers_scored: int
    changes: dict[str, int] = Field(description="Customers whose rfm / abc / quadrant changed (one event each)")
    segments_refreshed: int
    duration_ms: int
    computed_at: datetime


@router.post(
    "/recomputations",
    response_model=Recomputation,
    dependencies=[RequireJson],
    summary="Recompute RFM, ABC and quadrants for everybody now (also runs on a schedule)",
    responses={422: {"description": "Invalid body", **PROBLEM}},
)
async def recompute(session: SessionDep, body: RecomputationRequest | None = None) -> Recomputation:
    async with session.begin():
        result = await recompute_all(session, get_settings(), body.reference_date if body else None)
    return Recomputation(**result.__dict__)


class RecomputationState(BaseModel):
    computed_at: datetime
    reference_date: date
    customers_scored: int
    duration_ms: int
    parameters: dict


@router.get(
    "/recomputations/latest",
    response_model=RecomputationState,
    summary="The last full recomputation",
    responses={404: {"description": "Never recomputed yet", **PROBLEM}},
)
async def latest_recomputation(session: SessionDep) -> RecomputationState:
    state = (await session.execute(text("SELECT computed_at, reference_date, customers_scored, duration_ms, parameters FROM scoring_state WHERE id = 1"))).first()
    if state is None:
        raise Problem(404, "Never recomputed", "No full recomputation has run yet.", type_="not-found")
    return RecomputationState(**state._mapping)
