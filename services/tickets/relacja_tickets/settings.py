"""Settings of the tickets service (env prefix ``RELACJA_TICKETS_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["CONSUMER_NAME", "EVENT_SOURCE", "TicketsSettings"]

EVENT_SOURCE = "/relacja/tickets"
CONSUMER_NAME = "tickets.events"


class TicketsSettings(ServiceSettings, CustomerDirectorySettings):
    # customers_url, customers_timeout_seconds: the read-through on a customers projection miss
    model_config = SettingsConfigDict(env_prefix="RELACJA_TICKETS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_tickets"

    reopen_window_hours: int = Field(
        default=168, ge=0, le=24 * 365, description="A resolved ticket can be reopened this long; then it is closed"
    )
    csat_valid_hours: int = Field(
        default=24 * 14, ge=1, le=24 * 365, description="How long a CSAT survey token can be answered"
    )
    nps_valid_hours: int = Field(
        default=24 * 30, ge=1, le=24 * 365, description="How long an NPS survey token can be answered"
    )

    run_schedulers: bool = Field(
        default=True, description="Run the SLA breach watcher and the auto-closer in this process"
    )
    sla_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Longest sleep of the breach watcher between checks"
    )
    sla_batch_size: int = Field(default=500, ge=1, le=10_000, description="Breaches flagged per transaction")

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(hours=self.reopen_window_hours)
