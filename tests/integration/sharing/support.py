"""Staff and partner moves on the sharing service, directly (the gateway's headers set by hand)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from relacja_contracts.events import OrderPlacedV1

__all__ = ["act", "as_partner", "new_agreement", "new_partner", "placed_order"]


def as_partner(partner_id: str) -> dict[str, str]:
    return {"X-Relacja-Principal-Kind": "partner", "X-Relacja-Partner-Id": partner_id}


async def new_partner(api: httpx.AsyncClient, name: str = "Kurier Sp. z o.o.") -> dict[str, Any]:
    response = await api.post("/api/v1/sharing/partners", json={"legal_name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def act(api: httpx.AsyncClient, agreement: dict[str, Any], action: str) -> dict[str, Any]:
    response = await api.post(
        f"/api/v1/sharing/agreements/{agreement['id']}/{action}", headers={"If-Match": f'"{agreement["version"]}"'}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def new_agreement(api: httpx.AsyncClient, partner_id: str, **terms: Any) -> dict[str, Any]:
    body = {
        "partner_id": partner_id,
        "name": "Deliveries",
        "purposes": ["delivery"],
        "direction": "outbound",
        "legal_basis": "consent",
        "allowed_fields": {"relacja.orders.order.placed.v1": ["order_number", "total_amount", "currency"]},
        "min_group_size": 2,
    } | terms
    response = await api.post("/api/v1/sharing/agreements", json=body)
    assert response.status_code == 201, response.text
    return await act(api, response.json(), "activate")


def placed_order(customer_id: uuid.UUID) -> OrderPlacedV1:
    now = datetime.now(UTC)
    return OrderPlacedV1.model_validate(
        {
            "customer_id": customer_id,
            "order_id": uuid.uuid4(),
            "order_number": f"N-{uuid.uuid4().hex[:6]}",
            "status": "placed",
            "channel": "web",
            "placed_at": now,
            "currency": "PLN",
            "gross_amount": "10.00",
            "tax_amount": "2.30",
            "total_amount": "12.30",
            "returned_amount": "0.00",
            "refunded_amount": "0.00",
            "net_amount": "10.00",
            "cost_amount": "4.00",
            "margin": "6.00",
            "occurred_at": now,
        }
    )
