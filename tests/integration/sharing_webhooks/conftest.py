"""Fixtures of the sharing service's webhook tests: clients on the sharing service of the test
stack (staff face, and the partner face with the headers the gateway sets), its database, a
real HTTP receiver on loopback, and an active agreement with a partner."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from relacja_contracts.events import SegmentMemberAddedV1
from relacja_devstack import Stack

from ...support import service_client, service_db
from ...webhook_receiver import WebhookReceiver

SHARED_TYPE = SegmentMemberAddedV1.event_type


@dataclass(frozen=True)
class Agreement:
    partner_id: uuid.UUID
    agreement_id: uuid.UUID

    @property
    def partner_headers(self) -> dict[str, str]:
        return partner_headers(self.partner_id)

    @property
    def partner_endpoints(self) -> str:
        return f"/partner/v1/agreements/{self.agreement_id}/endpoints"

    @property
    def staff_endpoints(self) -> str:
        return f"/api/v1/sharing/agreements/{self.agreement_id}/endpoints"


def partner_headers(partner_id: uuid.UUID) -> dict[str, str]:
    """What the gateway passes on /partner/v1 after authenticating a partner's key."""
    return {"X-Relacja-Principal-Kind": "partner", "X-Relacja-Partner-Id": str(partner_id)}


async def new_agreement(
    api: httpx.AsyncClient, *, legal_basis: str = "contract", purposes: tuple[str, ...] = ("delivery",)
) -> Agreement:
    partner = await api.post("/api/v1/sharing/partners", json={"legal_name": f"Partner {uuid.uuid4().hex[:8]}"})
    assert partner.status_code == 201, partner.text
    partner_id = uuid.UUID(partner.json()["id"])
    body: dict[str, Any] = {
        "partner_id": str(partner_id),
        "name": "Webhook test",
        "purposes": list(purposes),
        "direction": "outbound",
        "legal_basis": legal_basis,
        "allowed_fields": {SHARED_TYPE: ["segment_name"]},
    }
    created = await api.post("/api/v1/sharing/agreements", json=body)
    assert created.status_code == 201, created.text
    agreement_id = uuid.UUID(created.json()["id"])
    activated = await api.post(
        f"/api/v1/sharing/agreements/{agreement_id}/activate", headers={"If-Match": created.headers["ETag"]}
    )
    assert activated.status_code == 200, activated.text
    return Agreement(partner_id, agreement_id)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "sharing", timeout=30) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "sharing") as connection:
        yield connection


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running
