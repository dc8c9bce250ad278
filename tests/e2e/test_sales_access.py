"""Record-level access through the gateway, with three tokens: rep A, rep B (same team) and
a manager. A cannot see B's opportunity (404) nor count it in any list, board, report or
forecast; the manager sees both. The caller's id, team and roles travel from the token's
claims to the sales service in the gateway's identity headers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from relacja_devstack import Stack
from relacja_gateway.tokens import mint_token

SCOPES = ("sales:read", "sales:write", "customers:read", "customers:write")


def _client(
    stack: Stack, subject: str, *, roles: tuple[str, ...] = (), scopes: tuple[str, ...] = SCOPES
) -> httpx.AsyncClient:
    token = mint_token(stack.config.jwt_secret, subject, list(scopes), 3600, team="e2e-north", roles=list(roles))
    return httpx.AsyncClient(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=20)


@pytest.fixture
async def clients(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]]:
    rep_a = _client(stack, f"rep-a-{uuid.uuid4().hex[:6]}")
    rep_b = _client(stack, f"rep-b-{uuid.uuid4().hex[:6]}")
    manager = _client(stack, "e2e-manager", roles=("sales_manager",), scopes=(*SCOPES, "sales:admin"))
    async with rep_a, rep_b, manager:
        yield rep_a, rep_b, manager


async def _deal(client: httpx.AsyncClient, pipeline: dict, amount: str, close: date) -> dict:
    customer = await client.post(
        "/api/v1/customers", json={"kind": "company", "legal_name": f"Firma {uuid.uuid4().hex[:8]}"}
    )
    assert customer.status_code == 201, customer.text
    response = await client.post(
        "/api/v1/sales/opportunities",
        json={
            "customer_id": customer.json()["id"],
            "pipeline_id": pipeline["id"],
            "stage_id": pipeline["stages"][1]["id"],
            "amount": amount,
            "currency": "PLN",
            "expected_close_date": close.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_reps_see_only_their_own_deals_and_the_manager_sees_both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    rep_a, rep_b, manager = clients
    # Pipeline settings need sales:admin: a rep's token is refused at the gateway.
    stages = [
        {"name": "Qualify", "probability": 10},
        {"name": "Propose", "probability": 40},
        {"name": "Won", "probability": 100, "is_won": True, "is_closed": True},
        {"name": "Lost", "probability": 0, "is_closed": True},
    ]
    body = {"name": f"E2E {uuid.uuid4().hex[:8]}", "stages": stages}
    assert (await rep_a.post("/api/v1/sales/pipelines", json=body)).status_code == 403
    created = await manager.post("/api/v1/sales/pipelines", json=body)
    assert created.status_code == 201, created.text
    pipeline = created.json()

    close = date.today() + timedelta(days=10)
    a = await _deal(rep_a, pipeline, "1000.00", close)
    b = await _deal(rep_b, pipeline, "333.33", close)
    assert a["owner_id"].startswith("rep-a-") and a["team"] == "e2e-north"

    # A single record: 404 for the other rep, on every route that names it.
    assert (await rep_a.get(f"/api/v1/sales/opportunities/{b['id']}")).status_code == 404
    assert (await rep_a.get(f"/api/v1/sales/opportunities/{b['id']}/stage-history")).status_code == 404
    move = await rep_a.post(
        f"/api/v1/sales/opportunities/{b['id']}/move", json={"stage_id": pipeline["stages"][0]["id"]}
    )
    assert move.status_code == 404
    assert (await rep_b.get(f"/api/v1/sales/opportunities/{a['id']}")).status_code == 404
    for deal in (a, b):
        assert (await manager.get(f"/api/v1/sales/opportunities/{deal['id']}")).status_code == 200

    # Lists, the board, the report and the forecast count only what the caller may see.
    async def listed(client: httpx.AsyncClient) -> set[str]:
        page = (await client.get(f"/api/v1/sales/opportunities?pipeline_id={pipeline['id']}")).json()
        return {item["id"] for item in page["items"]}

    assert await listed(rep_a) == {a["id"]}
    assert await listed(rep_b) == {b["id"]}
    assert await listed(manager) == {a["id"], b["id"]}

    async def board_count(client: httpx.AsyncClient) -> int:
        board = (await client.get(f"/api/v1/sales/opportunities/board?pipeline_id={pipeline['id']}")).json()
        return sum(column["count"] for column in board["columns"])

    assert (await board_count(rep_a), await board_count(rep_b), await board_count(manager)) == (1, 1, 2)

    async def forecast(client: httpx.AsyncClient) -> dict:
        response = await client.get(
            f"/api/v1/sales/forecast?start={close.isoformat()}&end={close.isoformat()}&pipeline_id={pipeline['id']}"
        )
        assert response.status_code == 200, response.text
        return response.json()["total"]

    # 1,000.00 × 40 % = 400.00; 333.33 × 40 % = 133.332 → 133.33; together 533.332 → 533.33.
    assert (await forecast(rep_a))["weighted"] == "400.00"
    assert (await forecast(rep_b))["weighted"] == "133.33"
    both = await forecast(manager)
    assert both["weighted"] == "533.33" and both["best_case"] == "1333.33" and both["deals"] == 2

    async def report_deals(client: httpx.AsyncClient) -> int:
        report = (await client.get(f"/api/v1/sales/reports/pipeline?pipeline_id={pipeline['id']}")).json()
        return report["deals"]

    assert (await report_deals(rep_a), await report_deals(manager)) == (1, 2)

    # The customer-360 view's sales part is the caller's view too.
    view = (await rep_a.get(f"/api/v1/customers/{b['customer_id']}/360")).json()
    assert view["sales"]["open_opportunities"] == []
    view = (await manager.get(f"/api/v1/customers/{b['customer_id']}/360")).json()
    assert [deal["id"] for deal in view["sales"]["open_opportunities"]] == [b["id"]]
    assert Decimal(view["sales"]["open_opportunities"][0]["amount"]) == Decimal("333.33")
