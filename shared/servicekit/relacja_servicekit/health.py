"""``/healthz`` (the process is alive), ``/readyz`` (database and broker reachable), ``/metrics``.

Readiness answers 503 with ``Retry-After`` while a dependency is down, so an orchestrator
stops routing traffic to the instance without restarting it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaClient
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

__all__ = ["health_router", "BrokerProbe", "Check", "HealthStatus", "ReadinessStatus"]

Check = Callable[[], Awaitable[None]]
_CHECK_TIMEOUT = 2.0


class HealthStatus(BaseModel):
    status: str


class ReadinessStatus(BaseModel):
    status: str
    checks: dict[str, str]


class BrokerProbe:
    """A long-lived Kafka client whose metadata request proves the broker answers."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._client: AIOKafkaClient | None = None

    async def __call__(self) -> None:
        if self._client is None:
            client = AIOKafkaClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2_000)
            await client.bootstrap()
            self._client = client
        await self._client.fetch_all_metadata()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


async def _run_check(check: Check) -> str:
    try:
        await asyncio.wait_for(check(), timeout=_CHECK_TIMEOUT)
        return "ok"
    except Exception as exc:  # readiness reports any failure; it never raises
        return f"unavailable: {type(exc).__name__}"


def health_router(checks: dict[str, Check], *, retry_after_seconds: int = 5) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=HealthStatus, summary="The process is alive")
    async def healthz() -> HealthStatus:
        return HealthStatus(status="ok")

    @router.get(
        "/readyz",
        response_model=ReadinessStatus,
        summary="Dependencies are reachable",
        responses={503: {"model": ReadinessStatus, "description": "A dependency is down"}},
    )
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        report = dict(zip(names, results, strict=True))
        ready = all(result == "ok" for result in results)
        body = ReadinessStatus(status="ok" if ready else "unavailable", checks=report)
        headers = {} if ready else {"Retry-After": str(retry_after_seconds)}
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503, headers=headers)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
