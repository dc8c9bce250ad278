"""Settings of the orders service (env prefix ``RELACJA_ORDERS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["OrdersSettings", "EVENT_SOURCE"]

EVENT_SOURCE = "/relacja/orders"


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_ORDERS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_orders"
