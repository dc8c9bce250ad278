"""The customers service process: HTTP API plus the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.customers import router as customers_router
from .settings import CustomersSettings

__all__ = ["app", "settings"]

settings = CustomersSettings()

app = create_service_app(
    name="customers",
    title="Relacja customers",
    description="The customer master: one record per customer that every team sees.",
    settings=settings,
    routers=[customers_router],
)
