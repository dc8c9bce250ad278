"""Distributions over the scored customers, the full recomputation, and the settings behind them.

    ScoringParameters    what a recomputation used (or the settings, before the first one)
    parameters_of        the service's current parameters (reporting currency, cut-offs, loyalty rule)
    scoring_basis        last recomputation, customers scored, their total net revenue, parameters used
    buckets              customers, net revenue and margin per rfm_segment / abc_class / quadrant
    recompute            a full recomputation now (scoring.recompute_all in a transaction)
    latest_recomputation the stored state of the last one, or None

Every money figure is in the reporting currency (orders in other currencies are left out
of the aggregates, see app/projection.py), so the answers carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..settings import SegmentationSettings
from .scoring import RecomputeResult, recompute_all

__all__ = [
    "ScoringParameters",
    "ScoringBasis",
    "Bucket",
    "LatestRecomputation",
    "parameters_of",
    "scoring_basis",
    "buckets",
    "recompute",
    "latest_recomputation",
]

Dimension = Literal["rfm_segment", "abc_class", "quadrant"]


@dataclass(frozen=True)
class ScoringParameters:
    reporting_currency: str
    abc_cutoff_a: float
    abc_cutoff_b: float
    loyal_min_purchases: int
    loyal_max_recency_days: int

    @classmethod
    def stored(cls, parameters: dict[str, Any], settings: SegmentationSettings) -> ScoringParameters:
        """From scoring_state.parameters (the JSON scoring.recompute_all writes)."""
        return cls(
            reporting_currency=parameters.get("currency", settings.currency),
            abc_cutoff_a=parameters["abc_cutoffs"]["a"],
            abc_cutoff_b=parameters["abc_cutoffs"]["b"],
            loyal_min_purchases=parameters["loyalty"]["min_purchases"],
            loyal_max_recency_days=parameters["loyalty"]["max_recency_days"],
        )


def parameters_of(settings: SegmentationSettings) -> ScoringParameters:
    return ScoringParameters(
        reporting_currency=settings.currency,
        abc_cutoff_a=settings.abc_cutoff_a,
        abc_cutoff_b=settings.abc_cutoff_b,
        loyal_min_purchases=settings.loyal_min_purchases,
        loyal_max_recency_days=settings.loyal_max_recency_days,
    )


@dataclass(frozen=True)
class ScoringBasis:
    computed_at: datetime | None  # None: never recomputed, nobody is scored
    reference_date: date | None
    reporting_currency: str
    customers_scored: int
    total_net_revenue: Decimal
    parameters: ScoringParameters  # as used by the last recomputation (the settings before the first)
    profit_threshold: Decimal  # the median margin of scored customers at the last recomputation


@dataclass(frozen=True)
class Bucket:
    customers: int
    net_revenue: Decimal
    margin: Decimal


async def scoring_basis(session: AsyncSession, settings: SegmentationSettings) -> ScoringBasis:
    state = (
        await session.execute(
            text("SELECT computed_at, reference_date, parameters, boundaries FROM scoring_state WHERE id = 1")
        )
    ).first()
    scored = (
        await session.execute(
            text(
                "SELECT count(*) AS n, coalesce(sum(net_revenue), 0) AS total FROM customer_profiles WHERE rfm_segment IS NOT NULL"
            )
        )
    ).one()
    return ScoringBasis(
        computed_at=state.computed_at if state else None,
        reference_date=state.reference_date if state else None,
        # The aggregates are kept in the currency the service runs with now.
        reporting_currency=settings.currency,
        customers_scored=scored.n,
        total_net_revenue=scored.total,
        parameters=ScoringParameters.stored(state.parameters, settings) if state else parameters_of(settings),
        # Stored in ten-thousandths of the currency unit, as scoring compares amounts.
        profit_threshold=Decimal(state.boundaries["profit_threshold"]) / 10_000 if state else Decimal(0),
    )


_BUCKETS = {
    dimension: text(
        f"SELECT {dimension} AS name, count(*) AS n, sum(net_revenue) AS revenue, sum(margin) AS margin "
        f"FROM customer_profiles WHERE {dimension} IS NOT NULL GROUP BY {dimension}"
    )
    for dimension in ("rfm_segment", "abc_class", "quadrant")
}


async def buckets(session: AsyncSession, dimension: Dimension) -> dict[str, Bucket]:
    """Per value of ``dimension`` that has customers (values without any are absent)."""
    rows = (await session.execute(_BUCKETS[dimension])).all()
    return {row.name: Bucket(customers=row.n, net_revenue=row.revenue, margin=row.margin) for row in rows}


async def recompute(
    session: AsyncSession, settings: SegmentationSettings, reference_date: date | None
) -> RecomputeResult:
    async with session.begin():
        return await recompute_all(session, settings, reference_date)


@dataclass(frozen=True)
class LatestRecomputation:
    computed_at: datetime
    reference_date: date
    customers_scored: int
    duration_ms: int
    parameters: ScoringParameters


async def latest_recomputation(session: AsyncSession, settings: SegmentationSettings) -> LatestRecomputation | None:
    state = (
        await session.execute(
            text(
                "SELECT computed_at, reference_date, customers_scored, duration_ms, parameters FROM scoring_state WHERE id = 1"
            )
        )
    ).first()
    if state is None:
        return None
    return LatestRecomputation(
        computed_at=state.computed_at,
        reference_date=state.reference_date,
        customers_scored=state.customers_scored,
        duration_ms=state.duration_ms,
        parameters=ScoringParameters.stored(state.parameters, settings),
    )
