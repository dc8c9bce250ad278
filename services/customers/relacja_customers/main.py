"""The customers service process: HTTP API plus the outbox relay (``run_relay``)."""

from __future__ import annotations

from relacja_messaging import OutboxRelay
from relacja_servicekit import Database, create_service_app

from .api.customers import router as customers_router
from .settings import CustomersSettings

__all__ = ["app", "settings"]

settings = CustomersSettings()


def _background(database: Database):  # type: ignore[no-untyped-def]
    if not settings.run_relay:
        return []
    relay = OutboxRelay(database.engine, settings.kafka_bootstrap, name="customers-relay")
    return [relay.run]


app = create_service_app(
    name="customers",
    title="Relacja customers",
    description="The customer master: one record per customer that every team sees.",
    settings=settings,
    routers=[customers_router],
    background=_background,
)
