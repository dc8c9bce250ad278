"""The tickets service process: HTTP API and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .settings import TicketsSettings

__all__ = ["app", "settings"]

settings = TicketsSettings()

app = create_service_app(
    name="tickets",
    title="Relacja tickets",
    description="Tickets service: support cases and complaints, SLA clocks, agent queues, satisfaction surveys.",
    settings=settings,
    routers=[],
)
