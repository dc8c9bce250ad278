"""Settings of the sales service (env prefix ``RELACJA_SALES_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["CONSUMER_NAME", "EVENT_SOURCE", "SalesSettings"]

EVENT_SOURCE = "/relacja/sales"
CONSUMER_NAME = "sales.projection"


class SalesSettings(ServiceSettings, CustomerDirectorySettings):
    # customers_url, customers_timeout_seconds: the read-through on a customers projection miss
    model_config = SettingsConfigDict(env_prefix="RELACJA_SALES_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_sales"

    reporting_currency: str = Field(
        default="PLN", pattern=r"^[A-Z]{3}$", description="The forecast's and reports' currency (ISO 4217)"
    )
    commit_probability: int = Field(
        default=80, ge=0, le=100, description="Open deals at or above this stage probability count as committed"
    )
    run_schedulers: bool = Field(default=True, description="Run the reminder worker in this process")
    reminder_poll_seconds: float = Field(
        default=1.0, gt=0, le=30, description="Longest sleep of the reminder worker between rounds"
    )
    reminder_batch_size: int = Field(default=2_000, ge=1, le=50_000, description="Reminders emitted per transaction")
