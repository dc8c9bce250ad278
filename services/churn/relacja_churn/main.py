"""The churn service process: HTTP API, the event consumer, the run worker and the outbox relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from relacja_servicekit import Database, create_service_app

from .api.customers import router as customers_router
from .api.kpis import router as kpis_router
from .api.models import router as models_router
from .api.settings import router as settings_router
from .consumers import handlers
from .settings import ChurnSettings
from .workers import run_worker

__all__ = ["app", "settings"]

settings = ChurnSettings()


def _background(database: Database) -> list[Callable[[], Awaitable[None]]]:
    return [
        run_worker(
            database.engine,
            database.sessions,
            poll_seconds=settings.run_poll_seconds,
            refit_interval_seconds=settings.refit_interval_seconds,
        )
    ]


app = create_service_app(
    name="churn",
    title="Relacja churn",
    description="Churn and value service: BG/NBD and Gamma-Gamma models, lifetime value, relationship KPIs.",
    settings=settings,
    routers=[models_router, customers_router, kpis_router, settings_router],
    consumers={"churn.projection": handlers},
    background=_background,
)
