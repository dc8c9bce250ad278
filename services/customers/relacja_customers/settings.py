"""Settings of the customers service (env prefix ``RELACJA_CUSTOMERS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["CustomersSettings", "EVENT_SOURCE"]

EVENT_SOURCE = "/relacja/customers"


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_CUSTOMERS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_customers"
