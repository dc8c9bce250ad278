"""Settings of the loyalty service (env prefix ``RELACJA_LOYALTY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["LoyaltySettings", "EVENT_SOURCE"]

EVENT_SOURCE = "/relacja/loyalty"


class LoyaltySettings(ServiceSettings, CustomerDirectorySettings):
    # customers_url, customers_timeout_seconds: the read-through on a customers projection miss
    model_config = SettingsConfigDict(env_prefix="RELACJA_LOYALTY_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_loyalty"
    housekeeping_interval_seconds: float = Field(
        default=3600,
        gt=0,
        description="How often the worker expires lots past their expiry and re-evaluates tiers (daily tier "
        "evaluation runs on the first pass of each UTC day)",
    )
