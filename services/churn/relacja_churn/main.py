"""The churn service process: HTTP API and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .settings import ChurnSettings

__all__ = ["app", "settings"]

settings = ChurnSettings()

app = create_service_app(
    name="churn",
    title="Relacja churn",
    description="Churn and value service: BG/NBD and Gamma-Gamma models, lifetime value, relationship KPIs.",
    settings=settings,
    routers=[],
)
