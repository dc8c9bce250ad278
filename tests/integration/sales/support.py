"""Helpers of the sales service's integration and end-to-end tests.

Calls go to the service directly with the identity headers the gateway would write
(``as_caller``): the record-level access rule is the service's, tested here; the gateway's
part (claims → headers) is tested in tests/unit/gateway and tests/e2e/test_sales_access.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx

from relacja_devstack import StackConfig

__all__ = [
    "MANAGER",
    "as_caller",
    "new_customer",
    "pipeline_body",
    "create_pipeline",
    "create_loss_reason",
    "open_deal",
    "problem",
    "sales_events",
]

MANAGER = {"X-Relacja-Principal": "manager-1", "X-Relacja-Roles": "sales_manager"}


def as_caller(principal: str, *, team: str | None = None, roles: str = "") -> dict[str, str]:
    headers = {"X-Relacja-Principal": principal}
    if team is not None:
        headers["X-Relacja-Team"] = team
    if roles:
        headers["X-Relacja-Roles"] = roles
    return headers


async def new_customer(*, lifecycle_stage: str | None = None) -> uuid.UUID:
    """A customer committed by the test stack's customers service (directly)."""
    body: dict[str, Any] = {"kind": "person", "given_name": "Jan", "family_name": "Sales" + uuid.uuid4().hex[:8]}
    if lifecycle_stage is not None:
        body["lifecycle_stage"] = lifecycle_stage
    async with httpx.AsyncClient(
        base_url=StackConfig.for_profile("test").service_url("customers"), timeout=20
    ) as customers:
        response = await customers.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def pipeline_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": f"Pipeline {uuid.uuid4().hex[:10]}",
        "stages": [
            {"name": "Qualify", "probability": 10},
            {"name": "Propose", "probability": 50},
            {"name": "Negotiate", "probability": 80},
            {"name": "Won", "probability": 100, "is_won": True, "is_closed": True},
            {"name": "Lost", "probability": 0, "is_closed": True},
        ],
        **extra,
    }


async def create_pipeline(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/sales/pipelines", json=pipeline_body(**extra), headers=MANAGER)
    assert response.status_code == 201, response.text
    return response.json()


async def create_loss_reason(api: httpx.AsyncClient) -> str:
    code = f"reason_{uuid.uuid4().hex[:8]}"
    response = await api.post("/api/v1/sales/loss-reasons", json={"code": code, "label": "Too expensive"})
    assert response.status_code == 201, response.text
    return code


async def open_deal(
    api: httpx.AsyncClient, pipeline: dict[str, Any], headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    payload = {
        "customer_id": str(body.pop("customer_id", None) or await new_customer()),
        "pipeline_id": pipeline["id"],
        "amount": "1000.00",
        "currency": "PLN",
        **body,
    }
    response = await api.post("/api/v1/sales/opportunities", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        assert [error["field"] for error in body.get("errors", [])] == [field], body
    return body


async def sales_events(db: asyncpg.Connection, key: str, value: str) -> list[tuple[str, dict[str, Any]]]:
    """Outbox events whose payload has ``key`` = ``value``, oldest first, as (short type, payload)."""
    rows = await db.fetch(
        "SELECT event_type, payload FROM outbox_events WHERE payload->>$1 = $2 ORDER BY id", key, value
    )
    return [(row["event_type"].removeprefix("relacja.sales."), json.loads(row["payload"])) for row in rows]
