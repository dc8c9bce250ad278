"""Settings of the customers service (env prefix ``RELACJA_CUSTOMERS_``)."""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["CustomersSettings", "EVENT_SOURCE", "CONSUMER_NAME"]

EVENT_SOURCE = "/relacja/customers"
# The consumer group and the inbox's consumer name (order events → lifecycle moves, partner
# contributions from relacja.sharing → interactions and leads);
# renaming it replays every retained order event.
CONSUMER_NAME = "customers.lifecycle"


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_CUSTOMERS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_customers"
    default_phone_region: str = Field(
        default="PL",
        pattern="^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 region for phone numbers written without +<country code>",
    )

    run_schedulers: bool = Field(default=True, description="Run the daily important-date announcer in this process")
    important_dates_lead_days: int = Field(
        default=7, ge=0, le=90, description="Announce an important date this many days ahead (0: on the day)"
    )
    important_dates_run_at: time = Field(default=time(0, 5), description="Time of day (UTC) of the daily run")
