"""The churn service through the gateway: scopes, a model run, a customer's score and
the customer-360 churn part. Orders are real order events on the broker; the
customer is created through the customers API. Dates are in 1979, an era no other test
uses, and the run is limited to customers first seen in 1979."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import OrderPlacedV1
from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ..support import eventually, publish


def bearer(stack: Stack, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(list(scopes))}"}


def placed(customer: uuid.UUID, day: date, amount: Decimal) -> OrderPlacedV1:
    moment = datetime.combine(day, time(12), tzinfo=UTC)
    return OrderPlacedV1(
        customer_id=customer,
        order_id=uuid.uuid4(),
        order_number="E2E-1",
        status="placed",
        channel="web",
        placed_at=moment,
        currency="PLN",
        gross_amount=amount,
        tax_amount=Decimal(0),
        total_amount=amount,
        returned_amount=Decimal(0),
        refunded_amount=Decimal(0),
        net_amount=amount,
        cost_amount=None,
        margin=None,
        occurred_at=moment,
    )


async def test_churn_through_the_gateway(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    reader, writer = bearer(stack, "analytics:read"), bearer(stack, "analytics:write")
    admin = bearer(stack, "admin")
    body = {"kind": "person", "display_name": "Ewa Lis", "email": f"ewa.{uuid.uuid4().hex[:10]}@example.com"}
    customer = (await anonymous.post("/api/v1/customers", json=body, headers=admin)).json()
    rng = random.Random(79)
    population = [uuid.UUID(customer["id"])] + [uuid.uuid4() for _ in range(150)]
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        for who in population:
            first = date(1979, 1, 1) + timedelta(days=rng.randint(0, 89))
            days = {first} | {
                first + timedelta(days=rng.randint(1, (date(1979, 12, 31) - first).days))
                for _ in range(rng.randint(0, 5))
            }
            for day in sorted(days):
                await publish(producer, placed(who, day, Decimal(rng.randint(1000, 9000)) / 100))
    finally:
        await producer.stop()

    run_body = {"calibration_end": "1979-12-31", "acquired_from": "1979-01-01"}
    forbidden = await anonymous.post("/api/v1/churn/models", json=run_body, headers=reader)
    assert forbidden.status_code == 403 and forbidden.json()["required_scope"] == "analytics:write"

    # Fit once every order is projected (the count of run customers tells).
    async def fitted_on_everyone():
        created = await anonymous.post("/api/v1/churn/models", json=run_body, headers=writer)
        assert created.status_code == 202, created.text

        async def finished():
            card = (await anonymous.get(f"/api/v1/churn/models/{created.json()['id']}", headers=reader)).json()
            return card if card["status"] in ("succeeded", "failed") else None

        card = await eventually(finished, timeout=60)
        return card if card["status"] == "succeeded" and card["n_customers"] == len(population) else None

    card = await eventually(fitted_on_everyone, timeout=120, interval=1)
    assert set(card["bgnbd"]) == {"r", "alpha", "a", "b"} and set(card["gamma_gamma"]) == {"p", "q", "gamma"}
    assert card["active"] is True

    score = await anonymous.get(f"/api/v1/churn/customers/{customer['id']}", headers=reader)
    assert score.status_code == 200, score.text
    assert score.json()["run_id"] == card["id"]
    kpis = await anonymous.get(
        "/api/v1/kpis", params={"from": "1979-01-01", "to": "1979-12-31", "period": "quarter"}, headers=reader
    )
    assert kpis.status_code == 200 and [p["new_customers"] for p in kpis.json()["periods"]] == [
        len(population),
        0,
        0,
        0,
    ]

    async def view_with_churn():
        view = (await anonymous.get(f"/api/v1/customers/{customer['id']}/360", headers=admin)).json()
        return view if view["churn"] is not None else None

    view = await eventually(view_with_churn, timeout=30)
    assert view["churn"]["risk_tier"] == score.json()["risk_tier"]
    assert view["churn"]["clv"] == score.json()["clv"]
