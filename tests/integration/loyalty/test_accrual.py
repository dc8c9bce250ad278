"""Points from real order events: accrual on payment (idempotent under redelivery), the
pending period, and a return or a cancellation reversing points."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import OrderPaidV1

from ...support import applied, eventually, publish
from .support import assert_ledger_sums, customer, enrol, member, new_product, order_paid, programme, wait_balance


async def test_paid_order_earns_once_even_when_redelivered(
    api: httpx.AsyncClient,
    orders_api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    db: asyncpg.Connection,
    orders_db: asyncpg.Connection,
    producer: AIOKafkaProducer,
) -> None:
    club = await programme(api, order_bonus_threshold="100", order_bonus_points=25)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "40.00")
    order = await order_paid(orders_api, customer_id, product["id"], 3)  # 120.00 net → 120 + 25 bonus
    found = await wait_balance(api, joined["id"], 145)
    assert found["available"] == 145 and found["pending"] == 0

    # Redelivery: the very event the orders service wrote, once more under its own id (the
    # inbox skips it) and once under a new id (the accrual's per-order claim skips it).
    row = await orders_db.fetchrow(
        "SELECT event_id, payload FROM outbox_events WHERE event_type = $1 AND payload->>'order_id' = $2",
        OrderPaidV1.event_type,
        order["id"],
    )
    assert row is not None
    payload = OrderPaidV1.model_validate(json.loads(row["payload"]))
    again = await publish(producer, payload, source="/relacja/orders")
    await eventually(lambda: applied(db, "loyalty.projection", again.id))
    assert (await member(api, joined["id"]))["balance"] == 145
    entries = await db.fetch(
        "SELECT kind, rule, points FROM loyalty_ledger WHERE order_id = $1 ORDER BY rule", uuid.UUID(order["id"])
    )
    assert [(e["kind"], e["rule"], e["points"]) for e in entries] == [
        ("earn", "order_bonus", 25),
        ("earn", "purchase", 120),
    ]
    await assert_ledger_sums(db, joined["id"])


async def test_points_are_pending_until_the_pending_period_ends(
    api: httpx.AsyncClient, orders_api: httpx.AsyncClient, customers_api: httpx.AsyncClient
) -> None:
    club = await programme(api, pending_period_seconds=4)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "10.00")
    await order_paid(orders_api, customer_id, product["id"], 5)
    found = await wait_balance(api, joined["id"], 50)
    assert found["pending"] == 50 and found["available"] == 0
    await asyncio.sleep(4.5)
    later = await member(api, joined["id"])
    assert later["pending"] == 0 and later["available"] == 50


async def test_a_partial_return_reverses_in_proportion_and_spent_points_become_debt(
    api: httpx.AsyncClient,
    orders_api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    db: asyncpg.Connection,
) -> None:
    club = await programme(api)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "25.00")
    order = await order_paid(orders_api, customer_id, product["id"], 4)  # 100 points
    await wait_balance(api, joined["id"], 100)
    # Spend 80 of them on a reward.
    offer = await api.post(
        "/api/v1/loyalty/offers", json={"name": "10%", "discount_kind": "percentage", "discount_value": "10"}
    )
    reward = await api.post(
        "/api/v1/loyalty/rewards",
        json={"programme_id": club["id"], "name": "Rabat", "points_cost": 80, "offer_id": offer.json()["id"]},
    )
    assert reward.status_code == 201, reward.text
    redeemed = await api.post(
        f"/api/v1/loyalty/members/{joined['id']}/redemptions", json={"reward_id": reward.json()["id"]}
    )
    assert redeemed.status_code == 201, redeemed.text
    for action in ("fulfill", "deliver"):
        assert (await orders_api.post(f"/api/v1/orders/{order['id']}/{action}")).status_code == 200
    # Return 2 of 4 units: half the net amount → 50 points back; only 20 remain in the lot → 30 debt.
    requested = await orders_api.post(
        f"/api/v1/orders/{order['id']}/returns", json={"lines": [{"line_no": 1, "quantity": 2}], "reason": "za duże"}
    )
    assert requested.status_code == 201, requested.text
    accepted = await orders_api.post(f"/api/v1/orders/{order['id']}/returns/{requested.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    found = await wait_balance(api, joined["id"], -30)
    assert found["debt"] == 30 and found["available"] == 0
    reversal = await db.fetchrow(
        "SELECT points, debt FROM loyalty_ledger WHERE kind = 'reverse' AND order_id = $1", uuid.UUID(order["id"])
    )
    assert reversal is not None
    assert (reversal["points"], reversal["debt"]) == (-50, 30)
    # The next order's points settle the debt first.
    await order_paid(orders_api, customer_id, product["id"], 2)  # 50 points
    settled = await wait_balance(api, joined["id"], 20)
    assert settled["debt"] == 0 and settled["available"] == 20
    await assert_ledger_sums(db, joined["id"])


async def test_a_cancelled_order_reverses_all_its_points(
    api: httpx.AsyncClient, orders_api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    club = await programme(api)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "7.50")
    order = await order_paid(orders_api, customer_id, product["id"], 2)
    await wait_balance(api, joined["id"], 15)
    cancelled = await orders_api.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "rezygnacja"})
    assert cancelled.status_code == 200, cancelled.text
    found = await wait_balance(api, joined["id"], 0)
    assert found["debt"] == 0
    await assert_ledger_sums(db, joined["id"])
