"""The churn service process: HTTP API, the event consumer, the run worker and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import Database, create_service_app

from .api.customers import router as customers_router
from .api.kpis import router as kpis_router
from .api.models import router as models_router
from .projection import handlers
from .runs import run_worker
from .settings import ChurnSettings

__all__ = ["app", "settings"]

settings = ChurnSettings()


def _background(database: Database):
    return [
        run_worker(
            database.engine, database.sessions, poll_seconds=settings.run_poll_seconds, refit_interval_seconds=settings.refit_interval_seconds
        )
    ]


app = create_service_app(
    name="churn",
    title="Relacja churn",
    description="Churn and value service: BG/NBD and Gamma-Gamma models, lifetime value, relationship KPIs.",
    settings=settings,
    routers=[models_router, customers_router, kpis_router],
    consumers={"churn.projection": handlers},
    background=_background,
)
