"""Settings of the tickets service (env prefix ``RELACJA_TICKETS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["TicketsSettings"]


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_TICKETS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_tickets"
