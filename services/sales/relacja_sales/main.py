"""The sales service process: HTTP API, the event consumer, the outbox relay and the reminder worker."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.activities import router as activities_router
from .api.leads import router as leads_router
from .api.opportunities import router as opportunities_router
from .api.pipelines import router as pipelines_router
from .api.reports import router as reports_router
from .consumers import handlers
from .settings import CONSUMER_NAME, SalesSettings
from .workers import reminder_background

__all__ = ["app", "settings"]

settings = SalesSettings()

app = create_service_app(
    name="sales",
    title="Relacja sales",
    description="Sales service: leads and their conversion, opportunities in pipelines, activities with reminders, "
    "forecast and pipeline reports, record-level access.",
    settings=settings,
    routers=[pipelines_router, opportunities_router, leads_router, activities_router, reports_router],
    consumers={CONSUMER_NAME: handlers},
    background=reminder_background(settings),
)
