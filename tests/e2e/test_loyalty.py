"""The loyalty service end to end through the gateway: enrol, order, points pending then
spendable, redeem them for a coupon, use it at checkout, return part of the first order,
see the ledger — and the loyalty part of the customer-360 view.

The programme's pending period is 3 seconds (``pending_period_seconds`` is per programme),
so the test sees the points pending and then spendable without moving any clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from relacja_devstack import Stack

from ..support import eventually

SCOPES = ["customers:read", "customers:write", "orders:read", "orders:write", "loyalty:read", "loyalty:write"]
PENDING_SECONDS = 3


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as http:
        yield http


async def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


async def test_enrol_earn_redeem_checkout_return_and_the_ledger(client: httpx.AsyncClient) -> None:
    club = await created(
        await client.post(
            "/api/v1/loyalty/programmes",
            json={
                "name": "Klub e2e",
                "currency": "PLN",
                "points_per_unit": "1",
                "pending_period_seconds": PENDING_SECONDS,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    offer = await created(
        await client.post(
            "/api/v1/loyalty/offers",
            json={"name": "10 zł", "discount_kind": "fixed_amount", "discount_value": "10.00", "currency": "PLN"},
        )
    )
    reward = await created(
        await client.post(
            "/api/v1/loyalty/rewards",
            json={"programme_id": club["id"], "name": "Bon 10 zł", "points_cost": 50, "offer_id": offer["id"]},
        )
    )
    customer = await created(
        await client.post("/api/v1/customers", json={"kind": "person", "given_name": "Ewa", "family_name": "E2e"})
    )
    # Enrolment right after the customer's creation: the read-through answers for a customer
    # the loyalty service has not heard of yet.
    member = await created(
        await client.post("/api/v1/loyalty/members", json={"programme_id": club["id"], "customer_id": customer["id"]})
    )
    assert len(member["card_number"]) == 16 and member["balance"] == 0

    product = await created(
        await client.post(
            "/api/v1/products",
            json={
                "sku": "E2E-" + uuid.uuid4().hex[:8].upper(),
                "name": "Herbata",
                "category": "tea",
                "list_price": "30.00",
                "tax_rate": "0.23",
                "currency": "PLN",
            },
        )
    )

    async def place(quantity: int, **fields: object) -> httpx.Response:
        return await client.post(
            "/api/v1/orders",
            json={
                "customer_id": customer["id"],
                "channel": "web",
                "currency": "PLN",
                "lines": [{"product_id": product["id"], "quantity": quantity}],
                **fields,
            },
        )

    first = await created(await place(4))  # 120.00 net → 120 points
    assert (await client.post(f"/api/v1/orders/{first['id']}/pay")).status_code == 200

    async def member_now() -> dict:
        answer = await client.get(f"/api/v1/loyalty/members/{member['id']}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def earned() -> dict | None:
        found = await member_now()
        return found if found["balance"] == 120 else None

    pending = await eventually(earned, timeout=60)
    assert pending["pending"] == 120 and pending["available"] == 0
    too_early = await client.post(
        f"/api/v1/loyalty/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    )
    assert too_early.status_code == 409 and too_early.json()["type"].endswith("insufficient-points")

    await asyncio.sleep(PENDING_SECONDS + 0.5)
    spendable = await member_now()
    assert spendable["pending"] == 0 and spendable["available"] == 120

    redemption = await created(
        await client.post(
            f"/api/v1/loyalty/members/{member['id']}/redemptions",
            json={"reward_id": reward["id"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    code = redemption["coupon"]["code"]
    assert redemption["balance"] == 70 and redemption["coupon"]["customer_id"] == customer["id"]

    # Checkout with the coupon: the orders service knows it once its projection of
    # relacja.loyalty has it (422 unknown until then).
    async def with_coupon() -> dict | None:
        answer = await place(2, coupon_code=code)
        if answer.status_code == 422 and "unknown" in answer.text:
            return None
        return await created(answer)

    second = await eventually(with_coupon, timeout=60)
    assert Decimal(second["net_amount"]) == Decimal("50.00")  # 60.00 − 10.00
    assert (await client.post(f"/api/v1/orders/{second['id']}/pay")).status_code == 200
    used_again = await place(1, coupon_code=code)
    assert used_again.status_code == 422, used_again.text

    async def coupon_used() -> dict | None:
        found = (await client.get(f"/api/v1/loyalty/coupons/{code}")).json()
        return found if found["uses"] == 1 else None

    await eventually(coupon_used, timeout=60)

    # Return one of the first order's four units: a quarter of its 120 points goes back.
    for action in ("fulfill", "deliver"):
        assert (await client.post(f"/api/v1/orders/{first['id']}/{action}")).status_code == 200
    returned = await created(
        await client.post(f"/api/v1/orders/{first['id']}/returns", json={"lines": [{"line_no": 1, "quantity": 1}]})
    )
    assert (await client.post(f"/api/v1/orders/{first['id']}/returns/{returned['id']}/accept")).status_code == 200

    async def settled() -> dict | None:
        found = await member_now()
        return found if found["balance"] == 120 - 50 + 50 - 30 else None

    final = await eventually(settled, timeout=60)
    assert final["debt"] == 0

    ledger = (await client.get(f"/api/v1/loyalty/members/{member['id']}/ledger", params={"limit": 2})).json()
    entries = ledger["items"]
    assert ledger["next_cursor"] is not None
    rest = (
        await client.get(
            f"/api/v1/loyalty/members/{member['id']}/ledger", params={"limit": 2, "cursor": ledger["next_cursor"]}
        )
    ).json()
    entries += rest["items"]
    assert [(e["kind"], e["points"]) for e in reversed(entries)] == [
        ("earn", 120),
        ("redeem", -50),
        ("earn", 50),
        ("reverse", -30),
    ]
    assert sum(e["points"] for e in entries) == final["balance"]
    assert entries[0]["order_id"] == first["id"] and entries[1]["order_id"] == second["id"]

    view = (await client.get(f"/api/v1/customers/{customer['id']}/360")).json()
    assert view["loyalty"]["memberships"][0]["balance"] == 90
    assert "loyalty" not in view["omitted"]

    freshness = (await client.get("/api/v1/loyalty/read-models/freshness")).json()
    assert {(s["consumer"], s["topic"]) for s in freshness["sources"]} == {
        ("loyalty.projection", "relacja.customers"),
        ("loyalty.projection", "relacja.orders"),
        ("loyalty.projection", "relacja.segmentation"),
    }
