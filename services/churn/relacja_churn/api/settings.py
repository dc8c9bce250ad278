"""``GET /api/v1/churn/settings``: the service settings that change its answers.

The reporting currency (the only currency whose orders the models and KPIs count, and
the currency of every money figure of a run fitted under it), the defaults a model run
takes for parameters a client leaves out, the scheduled refit, and the fixed rules that
turn scores into tiers, bands and loyalty.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from relacja_contracts.money import CurrencyCode

from ..domain.kpis import LOYAL_MIN_PROBABILITY_ALIVE
from ..domain.models.tiers import RISK_THRESHOLDS, RISK_TIERS, VALUE_BANDS, VALUE_PERCENTILES
from ..domain.models.units import TimeUnit
from .schemas import RiskTierName, ValueBandName

router = APIRouter(prefix="/api/v1/churn", tags=["churn settings"])


class RunDefaults(BaseModel):
    time_unit: TimeUnit
    horizon_months: int
    monthly_discount_rate: float


class RiskTierRule(BaseModel):
    risk_tier: RiskTierName
    min_probability_alive: float = Field(description="Lower bound of P(alive), inclusive")
    max_probability_alive: float = Field(description="Upper bound of P(alive), exclusive (1 inclusive for the last)")


class ValueBandRule(BaseModel):
    value_band: ValueBandName
    from_percentile: float = Field(description="CLV percentile of the run's customers where the band starts")


class ChurnSettingsOut(BaseModel):
    reporting_currency: CurrencyCode = Field(
        description="Orders in this currency are purchases for new runs and the KPIs; money figures are in it"
    )
    run_defaults: RunDefaults = Field(description="What POST /api/v1/churn/models uses for a parameter left out")
    refit_interval_seconds: float = Field(description="Scheduled refit of the active model (0: off)")
    risk_tiers: list[RiskTierRule]
    value_bands: list[ValueBandRule]
    loyal_min_probability_alive: float = Field(description="P(alive) from which a repeat buyer counts as loyal (KPIs)")


def _risk_tiers() -> list[RiskTierRule]:
    bounds = (0.0, *RISK_THRESHOLDS, 1.0)
    return [
        RiskTierRule(risk_tier=tier, min_probability_alive=bounds[i], max_probability_alive=bounds[i + 1])
        for i, tier in enumerate(RISK_TIERS)
    ]


@router.get("/settings", response_model=ChurnSettingsOut, summary="The settings that change this service's answers")
async def get_settings(request: Request) -> ChurnSettingsOut:
    settings = request.app.state.settings
    return ChurnSettingsOut(
        reporting_currency=settings.currency,
        run_defaults=RunDefaults(
            time_unit=settings.default_time_unit,
            horizon_months=settings.default_horizon_months,
            monthly_discount_rate=settings.default_monthly_discount_rate,
        ),
        refit_interval_seconds=settings.refit_interval_seconds,
        risk_tiers=_risk_tiers(),
        value_bands=[
            ValueBandRule(value_band=band, from_percentile=start)
            for band, start in zip(VALUE_BANDS, (0.0, *VALUE_PERCENTILES), strict=True)
        ],
        loyal_min_probability_alive=LOYAL_MIN_PROBABILITY_ALIVE,
    )
