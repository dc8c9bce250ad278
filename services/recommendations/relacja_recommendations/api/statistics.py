"""The pair statistics' state, and a full recomputation on demand.

GET  /api/v1/recommendations/statistics                 window, baskets, products, pairs, last recomputation
POST /api/v1/recommendations/statistics/recomputations  recompute every count now (also runs on a schedule)
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from relacja_servicekit import SessionDep

from ..app import statistics
from ..settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"])


class StatisticsOut(BaseModel):
    window_start: datetime | None = Field(description="Baskets placed since then are counted; null: none yet")
    window_days: int
    baskets: int = Field(description="Baskets in the window (N)")
    products: int = Field(description="Products in at least one basket of the window")
    pairs: int = Field(description="Product pairs bought together at least once in the window")
    min_count: int
    min_support: float
    min_lift: float = Field(description="The least lift a pair needs to feed customer suggestions")
    computed_at: datetime | None = Field(description="The last full recomputation; null: none yet")
    duration_ms: int | None


def _out(state: statistics.StatisticsState) -> StatisticsOut:
    settings = get_settings()
    return StatisticsOut(
        window_start=state.window_start,
        window_days=settings.window_days,
        baskets=state.baskets,
        products=state.products,
        pairs=state.pairs,
        min_count=settings.min_count,
        min_support=settings.min_support,
        min_lift=settings.min_lift,
        computed_at=state.computed_at,
        duration_ms=state.duration_ms,
    )


@router.get(
    "/statistics", response_model=StatisticsOut, summary="The pair statistics: window, size, last recomputation"
)
async def read_statistics(session: SessionDep) -> StatisticsOut:
    return _out(await statistics.read_state(session))


@router.post(
    "/statistics/recomputations",
    response_model=StatisticsOut,
    summary="Recompute every pair count now over the last window_days (also runs on a schedule)",
)
async def recompute(session: SessionDep) -> StatisticsOut:
    async with session.begin():
        state = await statistics.recompute_all(session, get_settings())
    return _out(state)
