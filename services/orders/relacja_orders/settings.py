"""Settings of the orders service (env prefix ``RELACJA_ORDERS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["OrdersSettings", "EVENT_SOURCE"]

EVENT_SOURCE = "/relacja/orders"


class OrdersSettings(ServiceSettings, CustomerDirectorySettings):
    # customers_url, customers_timeout_seconds: the read-through on a customers projection miss
    model_config = SettingsConfigDict(env_prefix="RELACJA_ORDERS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_orders"
