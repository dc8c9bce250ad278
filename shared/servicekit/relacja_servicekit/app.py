"""``create_service_app``: a FastAPI app with everything docs/conventions.md asks of a service.

    app = create_service_app(
        name="segmentation",
        title="Relacja segmentation",
        settings=settings,
        routers=[profiles_router],
        consumers={"segmentation.projection": handlers},
    )

``body_limits`` maps exact paths to their own request body limit (a streamed upload);
every other path has ``settings.max_body_bytes``.

The lifespan opens the database and starts the background workers as tasks: the outbox
relay and the housekeeping (if ``settings.run_relay``), one ``EventConsumer`` per entry
of ``consumers`` (if ``settings.run_consumers``) and any ``background`` extras; on shutdown it cancels them and
closes the pool. Workers never raise for an outage; if one crashes anyway it is
restarted after a pause and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI

from relacja_messaging import EventConsumer, EventHandlers, OutboxRelay
from relacja_messaging.relay import RelaySettings

from .db import Database
from .dead_letters import dead_letters_router
from .freshness import freshness_router
from .health import BrokerProbe, health_router
from .housekeeping import service_housekeeping
from .logging import configure_logging
from .methods import install_method_answers
from .middleware import BodySizeLimitMiddleware, RequestContextMiddleware, UnhandledErrorMiddleware
from .openapi import install_problem_openapi
from .problems import install_problem_handlers
from .settings import ServiceSettings
from .validation import reject_unknown_query_parameters, reject_unstorable_text

__all__ = ["create_service_app", "messaging_workers", "Background"]

log = logging.getLogger(__name__)

Worker = Callable[[], Awaitable[None]]
Background = Callable[[Database], Sequence[Worker]]


async def _supervise(name: str, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await work()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background worker %s crashed; restarting in 1s", name)
            await asyncio.sleep(1)


def messaging_workers(
    database: Database, settings: ServiceSettings, *, name: str, consumers: Mapping[str, EventHandlers]
) -> list[Worker]:
    """The relay and the consumers this process runs, as its settings say."""
    workers: list[Worker] = []
    if settings.run_consumers:
        workers += [
            EventConsumer(group, handlers, database.sessions, settings.kafka_bootstrap).run
            for group, handlers in consumers.items()
        ]
    if settings.run_relay:
        relay_settings = RelaySettings(replication_factor=settings.kafka_replication_factor)
        workers.append(OutboxRelay(database.engine, settings.kafka_bootstrap, relay_settings, name=f"{name}-relay").run)
        # Housekeeping goes with the relay: one process per service runs it.
        housekeeping = service_housekeeping(
            database.engine,
            idempotency_key_retention=timedelta(hours=settings.idempotency_key_retention_hours),
            inbox_retention=timedelta(days=settings.inbox_retention_days),
        )
        workers.append(housekeeping.run)
    return workers


def create_service_app(
    *,
    name: str,
    title: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    consumers: Mapping[str, EventHandlers] | None = None,
    background: Background | None = None,
    description: str = "",
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    configure_logging(name, settings.log_level)
    broker_probe = BrokerProbe(settings.kafka_bootstrap)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url, pool_size=settings.db_pool_size)
        app.state.database = database
        app.state.settings = settings
        workers = messaging_workers(database, settings, name=name, consumers=consumers or {})
        workers += list(background(database)) if background else []
        tasks = [
            asyncio.create_task(_supervise(f"{title}#{i}", work), name=f"worker-{i}") for i, work in enumerate(workers)
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker_probe.close()
            await database.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        # A service keeps /openapi.json (the gateway merges it) but has no /docs or /redoc:
        # FastAPI's pages load their scripts from a CDN, and services are internal; the
        # gateway's /docs shows every service's operations, served offline.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_parameters), Depends(reject_unstorable_text)],
    )
    install_problem_handlers(app)
    install_problem_openapi(app)

    async def database_check() -> None:
        await app.state.database.ping()

    app.include_router(
        health_router(
            {"database": database_check, "broker": broker_probe}, retry_after_seconds=settings.retry_after_seconds
        )
    )
    if consumers:  # before the service's routers: its /{id}/... paths must not shadow it
        app.include_router(freshness_router(name, consumers))
        app.include_router(dead_letters_router(name, consumers, settings.kafka_bootstrap))
    for router in routers:
        app.include_router(router)
    install_method_answers(app)  # innermost middleware: runs after the request context is set
    # Starlette runs the last-added middleware first: the context (request id) wraps the
    # error handler, which wraps the size limit.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes, path_limits=body_limits)
    app.add_middleware(UnhandledErrorMiddleware, retry_after_seconds=settings.retry_after_seconds)
    app.add_middleware(RequestContextMiddleware)
    return app
