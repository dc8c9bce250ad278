"""The gateway when services are slow or down, against the running stack: timeouts, a
stopped service (503 at once, other routes fine), retries only for idempotent methods."""

from __future__ import annotations

import time
import uuid

import httpx

from relacja_devstack import Stack

from ..support import eventually
from .gateway_support import RecordingTransport, closed_port, hanging_server, inprocess_gateway


def bearer(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(['admin'])}"}


async def test_a_timed_out_upstream_is_504_and_other_routes_are_fine(stack: Stack) -> None:
    async with hanging_server() as silent:
        async with inprocess_gateway(
            stack, upstreams={"segmentation": silent}, upstream_timeout_seconds=0.5
        ) as gateway:
            started = time.perf_counter()
            response = await gateway.get(f"/api/v1/segmentation/customers/{uuid.uuid4()}", headers=bearer(stack))
            elapsed = time.perf_counter() - started
            customers = await gateway.get("/api/v1/customers?limit=1", headers=bearer(stack))
    assert response.status_code == 504 and response.json()["type"] == "urn:relacja:problem:upstream-timeout"
    assert 0.4 < elapsed < 2.0
    assert "retry-after" in response.headers
    assert "127.0.0.1" not in response.text and "Traceback" not in response.text
    assert customers.status_code == 200


async def test_a_stopped_service_is_503_fast_while_customers_keeps_working(
    stack: Stack, gateway: httpx.AsyncClient
) -> None:
    customer = (
        await gateway.post("/api/v1/customers", json={"kind": "company", "display_name": "Firma Sp. z o.o."})
    ).json()
    await stack.stop_service("segmentation")
    try:
        timings = []
        for _ in range(8):  # the circuit opens after 5 failures; all answers are fast anyway
            started = time.perf_counter()
            response = await gateway.get(f"/api/v1/segmentation/customers/{customer['id']}")
            timings.append(time.perf_counter() - started)
            assert response.status_code == 503, response.text
            assert response.json()["type"] == "urn:relacja:problem:upstream-unavailable"
            assert int(response.headers["retry-after"]) >= 1
            assert str(stack.config.port("segmentation")) not in response.text and "127.0.0.1" not in response.text
        assert max(timings) < 1.0
        assert (await gateway.get(f"/api/v1/customers/{customer['id']}")).status_code == 200

        async def view_with_profile() -> dict | None:  # the profile part may miss its 300 ms deadline on a busy machine
            view = await gateway.get(f"/api/v1/customers/{customer['id']}/360")
            assert view.status_code == 200
            return view.json() if view.json()["profile"] is not None else None

        body = await eventually(view_with_profile)
        assert body["profile"]["id"] == customer["id"] and body["segments"] is None
        assert any(m["part"] == "segments" and m["reason"].startswith("service unavailable") for m in body["missing"])
        ready = await gateway.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["segmentation"].startswith("unavailable")
        assert ready.json()["checks"]["customers"] == "ok"
    finally:
        await stack.start_service("segmentation")

    async def routed_again() -> bool:  # once the circuit's cool-down is over
        response = await gateway.get(f"/api/v1/segmentation/customers/{customer['id']}")
        return response.status_code in (200, 404)

    await eventually(routed_again, timeout=30, interval=0.5)


async def test_retries_only_for_idempotent_methods(stack: Stack) -> None:
    recording = RecordingTransport()
    down = f"http://127.0.0.1:{closed_port()}"
    settings = {
        "retry_attempts": 2,
        "retry_backoff_seconds": 0.01,
        "retry_budget_min_retries": 100,
        "breaker_consecutive_failures": 100,
    }
    async with inprocess_gateway(stack, transport=recording, upstreams={"segmentation": down}, **settings) as gateway:
        for method in ("GET", "PUT", "DELETE", "POST", "PATCH"):
            recording.requests.clear()
            response = await gateway.request(
                method,
                "/api/v1/segmentation/customers/x",
                headers=bearer(stack),
                json={} if method in ("PUT", "POST", "PATCH") else None,
            )
            assert response.status_code == 503, (method, response.text)
            expected = 3 if method in ("GET", "PUT", "DELETE") else 1
            assert len(recording.requests) == expected, method
