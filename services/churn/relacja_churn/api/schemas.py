"""Request and response bodies of the churn API.

Time units are singular (``day``, ``week``, ``month``); a request may still send the
plural spelling the API used before (``days``, ``weeks``, ``months``), a deprecated alias
answered with the singular name. Money figures are in ``reporting_currency``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, model_validator

from relacja_contracts.money import Amount, CurrencyCode
from relacja_servicekit.types import Day, JsonInteger, StrictBool

from ..domain.models.units import TimeUnit, canonical_unit
from ..domain.runs import RunStatus

__all__ = [
    "BgNbdOut",
    "CustomerScoreOut",
    "DataWindow",
    "GammaGammaOut",
    "HistorySummary",
    "HoldoutOut",
    "Money",
    "RiskTierName",
    "RunCreate",
    "RunOut",
    "TimeUnitInput",
    "ValueBandName",
    "money",
]

#: A time unit as a request may name it: the singular name, or its deprecated plural.
TimeUnitInput = Annotated[Literal["day", "week", "month", "days", "weeks", "months"], AfterValidator(canonical_unit)]
RiskTierName = Literal["low", "medium", "high", "critical"]
ValueBandName = Literal["low", "medium", "high", "top"]


def money(value: float | None, currency: str) -> Money | None:
    if value is None:
        return None
    return Money(
        amount=Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), currency=currency
    )


class Money(BaseModel):
    amount: Amount
    currency: CurrencyCode


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calibration_end: Day = Field(description="Last day of the calibration period (inclusive)")
    time_unit: TimeUnitInput | None = Field(
        default=None,
        description="Unit of x, t_x and T: `day`, `week` or `month`; default: the service's "
        "(`GET /api/v1/churn/settings`). `days`, `weeks` and `months` are deprecated aliases.",
    )
    horizon_months: Annotated[int, Field(ge=1, le=120), JsonInteger] | None = Field(
        default=None, description="Horizon of expected purchases and CLV; default: the service's"
    )
    monthly_discount_rate: Annotated[StrictFloat, Field(ge=0, le=1)] | None = Field(
        default=None, description="CLV discount rate per month; default: the service's"
    )
    acquired_from: Day | None = Field(
        default=None, description="Only customers whose first purchase is on or after this day (a cohort)"
    )
    holdout_end: Day | None = Field(
        default=None, description="Validate on purchases after calibration_end up to this day (inclusive)"
    )
    activate: StrictBool | None = Field(
        default=None, description="Make the run active when it succeeds; default: yes unless it has a holdout"
    )

    @model_validator(mode="after")
    def _windows(self) -> RunCreate:
        if self.holdout_end is not None and self.holdout_end <= self.calibration_end:
            raise ValueError("holdout_end must be after calibration_end")
        if self.acquired_from is not None and self.acquired_from > self.calibration_end:
            raise ValueError("acquired_from must be on or before calibration_end")
        return self


class BgNbdOut(BaseModel):
    r: float
    alpha: float
    a: float
    b: float


class GammaGammaOut(BaseModel):
    p: float
    q: float
    gamma: float


class HoldoutGroupOut(BaseModel):
    label: str = Field(description='Repeat transactions in calibration: "0", "1", ..., "7+"')
    customers: int
    predicted: float = Field(description="Mean predicted repeat transactions in the holdout")
    actual: float = Field(description="Mean actual repeat transactions in the holdout")


class HoldoutTotal(BaseModel):
    predicted: float
    actual: float


class HoldoutOut(BaseModel):
    holdout_end: date
    length: float = Field(description="Holdout length in the run's time unit")
    groups: list[HoldoutGroupOut]
    total: HoldoutTotal


class DataWindow(BaseModel):
    first_purchase_from: date
    first_purchase_to: date
    last_purchase_on: date


class RunOut(BaseModel):
    id: uuid.UUID
    status: RunStatus
    trigger: Literal["api", "schedule"]
    active: bool
    activate: bool
    calibration_end: date
    acquired_from: date | None
    holdout_end: date | None
    time_unit: TimeUnit
    horizon_months: int
    monthly_discount_rate: float
    reporting_currency: CurrencyCode = Field(description="The currency of the run's orders and of its money figures")
    currency: CurrencyCode = Field(deprecated=True, description="Deprecated: the same as `reporting_currency`")
    bgnbd: BgNbdOut | None = None
    gamma_gamma: GammaGammaOut | None = None
    log_likelihood: float | None = None
    gamma_gamma_log_likelihood: float | None = None
    n_customers: int | None = None
    n_repeat_buyers: int | None = None
    n_transactions: int | None = None
    converged: bool | None = None
    data_window: DataWindow | None = None
    customer_equity: Money | None = Field(default=None, description="Sum of the customers' CLV at calibration end")
    value_band_cutoffs: list[float] | None = Field(
        default=None, description="CLV at the 50th, 80th and 95th percentile"
    )
    timings: dict[str, float] | None = None
    holdout: HoldoutOut | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> RunOut:
        fit = row.fit or {}
        return cls(
            id=row.id,
            status=row.status,
            trigger=row.trigger,
            active=row.active,
            activate=row.activate,
            calibration_end=row.calibration_end,
            acquired_from=row.acquired_from,
            holdout_end=row.holdout_end,
            time_unit=canonical_unit(row.time_unit),
            horizon_months=row.horizon_months,
            monthly_discount_rate=row.monthly_discount_rate,
            reporting_currency=row.currency,
            currency=row.currency,
            bgnbd=row.bgnbd,
            gamma_gamma=row.gamma_gamma,
            log_likelihood=fit.get("log_likelihood"),
            gamma_gamma_log_likelihood=fit.get("gamma_gamma_log_likelihood"),
            n_customers=fit.get("n_customers"),
            n_repeat_buyers=fit.get("n_repeat_buyers"),
            n_transactions=fit.get("n_transactions"),
            converged=fit.get("converged"),
            data_window=DataWindow(**{k: fit[k] for k in DataWindow.model_fields}) if fit else None,
            customer_equity=money(fit.get("total_clv"), row.currency),
            value_band_cutoffs=row.band_cutoffs,
            timings=row.timings,
            holdout=row.holdout,
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


class HistorySummary(BaseModel):
    time_unit: TimeUnit
    x: int = Field(description="Repeat transactions (same-day orders merged)")
    t_x: float = Field(description="Time of the last transaction since the first")
    T: float = Field(description="Time from the first purchase to as_of")
    first_purchase_on: date
    last_purchase_on: date
    mean_repeat_spend: Money


class CustomerScoreOut(BaseModel):
    customer_id: uuid.UUID
    run_id: uuid.UUID
    as_of: date = Field(description="The day the history is measured to")
    probability_alive: float
    risk_tier: RiskTierName
    value_band: ValueBandName
    horizon_months: int
    reporting_currency: CurrencyCode = Field(description="The currency of the money figures (the run's)")
    expected_purchases: float = Field(description="Expected transactions in the horizon")
    expected_spend: Money = Field(description="Expected value of one future transaction (Gamma-Gamma)")
    clv: Money = Field(description="Discounted lifetime value over the horizon")
    history: HistorySummary
    scored_at: datetime
