"""Settings of the churn service (env prefix ``RELACJA_CHURN_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["ChurnSettings"]


class ChurnSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_CHURN_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_churn"
