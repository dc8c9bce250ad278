"""The orders service process: HTTP API and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .settings import OrdersSettings

__all__ = ["app", "settings"]

settings = OrdersSettings()

app = create_service_app(
    name="orders",
    title="Relacja orders",
    description="Orders service: catalog, orders, payments state, returns and refunds, historical import.",
    settings=settings,
    routers=[],
)
