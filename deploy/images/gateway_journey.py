"""The one request journey both deployment checks end with (test_images.py, test_compose.py).

A customer created through the gateway must show up in segmentation's projection: the
write path, the outbox relay, the broker and a consumer of another service all work in
the deployed shape. pytest puts this folder on ``sys.path`` (it has no ``__init__.py``),
so the tests import it as a top-level module.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx


async def customer_reaches_segmentation(gateway_url: str, token: str, display_name: str, timeout: float = 60.0) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10.0, trust_env=False) as gateway:
        created = await gateway.post(
            "/api/v1/customers",
            json={"kind": "person", "display_name": display_name},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        customer_id = created.json()["id"]
        deadline = time.monotonic() + timeout
        while True:
            profile = await gateway.get(f"/api/v1/segmentation/customers/{customer_id}", headers=headers)
            if profile.status_code == 200:
                break
            assert profile.status_code == 404, profile.text
            assert time.monotonic() < deadline, "the customer never reached segmentation's projection"
            await asyncio.sleep(0.5)
        assert profile.json()["customer_id"] == customer_id
