"""A database that is down gives 503 with Retry-After, and readiness names what is down.

The customers app is started in-process (with its lifespan) against a PostgreSQL port
where nothing listens — a real refused connection, not a mock.
"""

from __future__ import annotations

import socket

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_database_down_is_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv(
        "RELACJA_CUSTOMERS_DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:{port}/relacja_customers"
    )
    monkeypatch.setenv("RELACJA_CUSTOMERS_KAFKA_BOOTSTRAP", f"127.0.0.1:{_free_port()}")
    monkeypatch.setenv("RELACJA_CUSTOMERS_RUN_RELAY", "false")
    from relacja_customers.api.customers import router
    from relacja_customers.settings import CustomersSettings
    from relacja_servicekit import create_service_app

    app = create_service_app(name="test", title="customers-under-test", settings=CustomersSettings(), routers=[router])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            response = await client.post("/api/v1/customers", json={"kind": "person", "display_name": "X"})
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert response.json()["type"].endswith("dependency-unavailable")
            assert str(port) not in response.text
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.headers["retry-after"] == "5"
            assert ready.json()["checks"]["database"].startswith("unavailable")
            assert ready.json()["checks"]["broker"].startswith("unavailable")
