"""Settings of the churn service (env prefix ``RELACJA_CHURN_``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

from .domain.models.units import canonical_unit

__all__ = ["ChurnSettings", "EVENT_SOURCE"]

EVENT_SOURCE = "/relacja/churn"


class ChurnSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_CHURN_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_churn"
    currency: str = Field(
        default="PLN",
        pattern=r"^[A-Z]{3}$",
        description="The company's reporting currency: the models use orders in this currency only",
    )
    refit_interval_seconds: float = Field(
        default=86_400, ge=0, description="Scheduled refit period (0 turns the scheduled refit off)"
    )
    run_poll_seconds: float = Field(
        default=30,
        gt=0,
        description="How often an idle worker looks for pending runs (a queued run wakes it at once)",
    )
    # The defaults of a run's parameters a client leaves out (GET /api/v1/churn/settings shows them).
    default_time_unit: str = Field(
        default="week", description="day, week or month (days, weeks, months: deprecated aliases)"
    )
    default_horizon_months: int = Field(default=12, ge=1, le=120)
    default_monthly_discount_rate: float = Field(default=0.01, ge=0, le=1)

    @field_validator("default_time_unit")
    @classmethod
    def _singular_unit(cls, value: str) -> str:
        return canonical_unit(value)
