"""Distributions, recomputation and the settings behind them (HTTP; use cases in app/analysis.py):

    GET  /api/v1/segmentation/settings                the parameters that change the answers below
    GET  /api/v1/segmentation/rfm                     customers and revenue share per RFM segment
    GET  /api/v1/segmentation/abc                     customers and revenue share per ABC class
    GET  /api/v1/segmentation/loyalty-matrix          the four quadrants with measurement and treatment
    POST /api/v1/segmentation/recomputations          full recomputation now (optionally at a reference date)
    GET  /api/v1/segmentation/recomputations/latest   when the scores were last recomputed, and how

Every distribution names its ``reporting_currency`` (the currency of every amount in it)
and the parameters its last recomputation used.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from relacja_contracts.money import Amount
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.types import Day
from relacja_servicekit.validation import RequireJson

from ..app import analysis
from ..app.analysis import Bucket, ScoringBasis, ScoringParameters
from ..domain.abc import ABC_CLASSES
from ..domain.loyalty import QUADRANT_INFO, QUADRANTS
from ..domain.rfm import RFM_SEGMENTS, SEGMENT_LABELS
from ..settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/segmentation", tags=["segmentation"])

_CURRENCY = Field(
    pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every amount in this answer (RELACJA_SEGMENTATION_CURRENCY)"
)


class AbcCutoffs(BaseModel):
    a: float = Field(gt=0, le=1, description="Cumulative net-revenue share closing class A")
    b: float = Field(gt=0, le=1, description="Cumulative net-revenue share closing class B")


class LoyaltyRule(BaseModel):
    min_purchases: int = Field(ge=1, description="Loyal: at least this many purchase days")
    max_recency_days: int = Field(
        ge=1, description="Loyal: the last purchase at most this many days before the reference date"
    )


class ScoringParametersPublic(BaseModel):
    reporting_currency: str = _CURRENCY
    abc_cutoffs: AbcCutoffs
    loyalty: LoyaltyRule

    @classmethod
    def of(cls, parameters: ScoringParameters) -> ScoringParametersPublic:
        return cls(
            reporting_currency=parameters.reporting_currency,
            abc_cutoffs=AbcCutoffs(a=parameters.abc_cutoff_a, b=parameters.abc_cutoff_b),
            loyalty=LoyaltyRule(
                min_purchases=parameters.loyal_min_purchases, max_recency_days=parameters.loyal_max_recency_days
            ),
        )


class SegmentationSettingsPublic(ScoringParametersPublic):
    rfm_mapping: str = Field(description="How RFM scores are given and map to segment names (fixed)")
    recompute_interval_seconds: float = Field(ge=0, description="Period of the scheduled full recomputation; 0: off")


class Basis(BaseModel):
    computed_at: datetime | None = Field(description="Last full recomputation (null: never; nobody is scored yet)")
    reference_date: date | None
    reporting_currency: str = _CURRENCY
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
    cutoffs: AbcCutoffs = Field(description="As used by the last recomputation (the settings before the first)")
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
    profit_threshold: Amount = Field(
        description="Median margin of scored customers: profitable = margin > 0 and ≥ this"
    )
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


def _basis(basis: ScoringBasis) -> dict:
    return {
        "computed_at": basis.computed_at,
        "reference_date": basis.reference_date,
        "reporting_currency": basis.reporting_currency,
        "customers_scored": basis.customers_scored,
        "total_net_revenue": basis.total_net_revenue,
    }


def _share(part: Decimal | int, whole: Decimal | int) -> float:
    return round(float(part) / float(whole), 6) if whole else 0.0


_EMPTY = Bucket(customers=0, net_revenue=Decimal(0), margin=Decimal(0))


@router.get(
    "/settings", response_model=SegmentationSettingsPublic, summary="The settings that change this service's answers"
)
async def segmentation_settings() -> SegmentationSettingsPublic:
    settings = get_settings()
    current = ScoringParametersPublic.of(analysis.parameters_of(settings))
    return SegmentationSettingsPublic(
        **current.model_dump(), rfm_mapping=RFM_MAPPING, recompute_interval_seconds=settings.recompute_interval_seconds
    )


@router.get("/rfm", response_model=RfmDistribution, summary="RFM distribution: customers and revenue share per segment")
async def rfm_distribution(session: SessionDep) -> RfmDistribution:
    basis = await analysis.scoring_basis(session, get_settings())
    found = await analysis.buckets(session, "rfm_segment")
    buckets = [
        RfmBucket(
            segment=s,
            label=SEGMENT_LABELS[s],
            customers=found.get(s, _EMPTY).customers,
            customer_share=_share(found.get(s, _EMPTY).customers, basis.customers_scored),
            net_revenue=found.get(s, _EMPTY).net_revenue,
            revenue_share=_share(found.get(s, _EMPTY).net_revenue, basis.total_net_revenue),
        )
        for s in RFM_SEGMENTS
    ]
    return RfmDistribution(**_basis(basis), segments=buckets, mapping=RFM_MAPPING)


@router.get("/abc", response_model=AbcDistribution, summary="ABC distribution by net revenue")
async def abc_distribution(session: SessionDep) -> AbcDistribution:
    basis = await analysis.scoring_basis(session, get_settings())
    found = await analysis.buckets(session, "abc_class")
    classes = [
        AbcBucket(
            abc_class=c,
            customers=found.get(c, _EMPTY).customers,
            customer_share=_share(found.get(c, _EMPTY).customers, basis.customers_scored),
            net_revenue=found.get(c, _EMPTY).net_revenue,
            revenue_share=_share(found.get(c, _EMPTY).net_revenue, basis.total_net_revenue),
        )
        for c in ABC_CLASSES
    ]
    cutoffs = ScoringParametersPublic.of(basis.parameters).abc_cutoffs
    return AbcDistribution(**_basis(basis), cutoffs=cutoffs, straddling_rule=STRADDLING_RULE, classes=classes)


@router.get(
    "/loyalty-matrix",
    response_model=LoyaltyMatrix,
    summary="Loyalty matrix (Reinartz & Kumar): quadrants, measurement and treatment",
)
async def loyalty_matrix(session: SessionDep) -> LoyaltyMatrix:
    basis = await analysis.scoring_basis(session, get_settings())
    found = await analysis.buckets(session, "quadrant")
    quadrants = [
        QuadrantBucket(
            quadrant=q,
            label=QUADRANT_INFO[q]["label"],
            customers=found.get(q, _EMPTY).customers,
            net_revenue=found.get(q, _EMPTY).net_revenue,
            margin=found.get(q, _EMPTY).margin,
            measurement=QUADRANT_INFO[q]["measurement"],
            treatment=QUADRANT_INFO[q]["treatment"],
        )
        for q in QUADRANTS
    ]
    rule = (
        f"Loyal: at least {basis.parameters.loyal_min_purchases} purchase days and the last purchase at most "
        f"{basis.parameters.loyal_max_recency_days} days before the reference date."
    )
    return LoyaltyMatrix(
        **_basis(basis), profit_threshold=basis.profit_threshold, loyalty_rule=rule, quadrants=quadrants
    )


class RecomputationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference_date: Day | None = Field(
        default=None, description="Recency is measured to this day (default: today, UTC)"
    )


class Changes(BaseModel):
    rfm: int = Field(ge=0, description="Customers whose RFM segment changed")
    abc: int = Field(ge=0, description="Customers whose ABC class changed")
    quadrant: int = Field(ge=0, description="Customers whose loyalty quadrant changed")


class Recomputation(BaseModel):
    reference_date: date
    customers_scored: int
    changes: Changes = Field(description="One customer_segment.changed event each")
    segments_refreshed: int
    duration_ms: int
    computed_at: datetime


@router.post(
    "/recomputations",
    response_model=Recomputation,
    dependencies=[RequireJson],
    summary="Recompute RFM, ABC and quadrants for everybody now (also runs on a schedule)",
)
async def recompute(session: SessionDep, body: RecomputationRequest | None = None) -> Recomputation:
    result = await analysis.recompute(session, get_settings(), body.reference_date if body else None)
    return Recomputation(
        reference_date=result.reference_date,
        customers_scored=result.customers_scored,
        changes=Changes(**result.changes),
        segments_refreshed=result.segments_refreshed,
        duration_ms=result.duration_ms,
        computed_at=result.computed_at,
    )


class RecomputationState(BaseModel):
    computed_at: datetime
    reference_date: date
    customers_scored: int
    duration_ms: int
    parameters: ScoringParametersPublic


@router.get(
    "/recomputations/latest",
    response_model=RecomputationState,
    summary="The last full recomputation",
    responses=problem_responses({404: "No full recomputation has run yet"}),
)
async def latest_recomputation(session: SessionDep) -> RecomputationState:
    state = await analysis.latest_recomputation(session, get_settings())
    if state is None:
        raise Problem(404, "Never recomputed", "No full recomputation has run yet.", type_="not-found")
    return RecomputationState(
        computed_at=state.computed_at,
        reference_date=state.reference_date,
        customers_scored=state.customers_scored,
        duration_ms=state.duration_ms,
        parameters=ScoringParametersPublic.of(state.parameters),
    )
