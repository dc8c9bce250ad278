"""Read your own writes across services, through the gateway: a customer created a moment
ago can order and open a ticket in the very next call (the orders and tickets services ask
the customers service once when their projection has not seen the customer yet), while an
unknown, erased or merged-away customer is still refused; and every event-fed service
says how fresh its read models are."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import httpx
import pytest

from relacja_devstack import Stack

from ..support import eventually

SCOPES = [
    "customers:read",
    "customers:write",
    "orders:read",
    "orders:write",
    "tickets:read",
    "tickets:write",
    "analytics:read",
]
ITERATIONS = 100


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as client:
        yield client


async def new_customer(client: httpx.AsyncClient) -> str:
    created = await client.post(
        "/api/v1/customers", json={"kind": "person", "given_name": "Ola", "family_name": "Ryw" + uuid.uuid4().hex[:8]}
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def new_product(client: httpx.AsyncClient) -> str:
    sku = "RYW-" + uuid.uuid4().hex[:8].upper()
    product = await client.post(
        "/api/v1/products",
        json={
            "sku": sku,
            "name": "Kubek",
            "category": "kitchen",
            "list_price": "20.00",
            "unit_cost": "8.00",
            "tax_rate": "0.23",
            "currency": "PLN",
        },
    )
    assert product.status_code == 201, product.text
    return sku


async def place(client: httpx.AsyncClient, customer_id: str, sku: str) -> httpx.Response:
    return await client.post(
        "/api/v1/orders",
        json={"customer_id": customer_id, "channel": "web", "currency": "PLN", "lines": [{"sku": sku, "quantity": 1}]},
    )


async def open_ticket(client: httpx.AsyncClient, customer_id: str, sku: str = "") -> httpx.Response:
    return await client.post(
        "/api/v1/tickets",
        json={"customer_id": customer_id, "type": "question", "channel": "email", "subject": "Where is my mug?"},
    )


async def test_a_new_customer_orders_and_opens_a_ticket_at_once(client: httpx.AsyncClient) -> None:
    sku = await new_product(client)
    refusals = []
    for _ in range(ITERATIONS):
        customer = await new_customer(client)
        order = await place(client, customer, sku)
        ticket = await open_ticket(client, customer)
        refusals += [(answer.status_code, answer.text) for answer in (order, ticket) if answer.status_code != 201]
    assert refusals == []


Attempt = Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]


def refusal(answer: httpx.Response) -> str | None:
    """The problem type's slug of a 422, None for anything else."""
    if answer.status_code != 422:
        return None
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()["type"].rsplit(":", 1)[-1]


async def test_an_unknown_customer_is_refused(client: httpx.AsyncClient) -> None:
    sku = await new_product(client)
    nobody = str(uuid.uuid4())
    order, ticket = await place(client, nobody, sku), await open_ticket(client, nobody)
    assert refusal(order) == refusal(ticket) == "unknown-customer", (order.text, ticket.text)
    assert order.json()["errors"] == [{"field": "body.customer_id", "message": "no such customer"}]


async def test_an_erased_customer_is_refused(client: httpx.AsyncClient) -> None:
    sku = await new_product(client)
    customer = await new_customer(client)
    erased = await client.post(f"/api/v1/customers/{customer}/erase")
    assert erased.status_code == 200, erased.text

    # Refused at once when the service asks the customers service (a miss), and at the
    # latest once the erasure event arrives (a service that had already projected the customer).
    for attempt in (place, open_ticket):

        async def refused(attempt: Attempt = attempt) -> str | None:
            return refusal(await attempt(client, customer, sku))

        assert await eventually(refused, timeout=30) == "customer-erased"


async def test_a_merged_away_customer_is_refused(client: httpx.AsyncClient) -> None:
    sku = await new_product(client)
    survivor, merged = await new_customer(client), await new_customer(client)
    version = (await client.get(f"/api/v1/customers/{survivor}")).headers["etag"]
    answer = await client.post(
        f"/api/v1/customers/{survivor}/merge", json={"merge_customer_id": merged}, headers={"If-Match": version}
    )
    assert answer.status_code == 200, answer.text

    # The merge deletes the merged record: a service that never saw it hears 404 from the
    # customers service (unknown); one that did is told by the merge event (merged).
    for attempt in (place, open_ticket):

        async def refused(attempt: Attempt = attempt) -> str | None:
            return refusal(await attempt(client, merged, sku))

        assert await eventually(refused, timeout=30) in ("customer-merged", "unknown-customer")
    merged_problem = (await place(client, merged, sku)).json()
    if merged_problem["type"].endswith("customer-merged"):
        assert merged_problem["merged_into"] == survivor


async def test_every_event_fed_service_says_how_fresh_its_read_models_are(client: httpx.AsyncClient) -> None:
    customer = await new_customer(client)
    created_at = datetime.fromisoformat((await client.get(f"/api/v1/customers/{customer}")).json()["created_at"])

    async def orders_caught_up() -> dict | None:
        body = (await client.get("/api/v1/orders/read-models/freshness")).json()
        [source] = [s for s in body["sources"] if s["topic"] == "relacja.customers"]
        last = source["last_event_time"]
        return body if last and datetime.fromisoformat(last) >= created_at else None

    body = await eventually(orders_caught_up, timeout=30)
    assert body["service"] == "orders" and {(s["consumer"], s["topic"]) for s in body["sources"]} == {
        ("orders.customers", "relacja.customers"),
        ("orders.customers", "relacja.sales"),  # draft orders of won deals
        ("orders.coupons", "relacja.loyalty"),
    }
    [source] = [s for s in body["sources"] if s["topic"] == "relacja.customers"]
    assert source["lag_seconds"] >= 0 and datetime.fromisoformat(source["last_applied_at"]) >= datetime.fromisoformat(
        source["last_event_time"]
    )
    for service in ("customers", "segmentation", "tickets", "churn"):
        answer = await client.get(f"/api/v1/{service}/read-models/freshness")
        assert answer.status_code == 200, answer.text
        assert answer.json()["service"] == service and answer.json()["sources"], answer.text
    tickets_topics = {s["topic"] for s in (await client.get("/api/v1/tickets/read-models/freshness")).json()["sources"]}
    assert tickets_topics == {"relacja.customers", "relacja.orders"}


async def test_freshness_needs_the_services_read_scope(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.token(['customers:read'])}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=10) as reader:
        assert (await reader.get("/api/v1/customers/read-models/freshness")).status_code == 200
        assert (await reader.get("/api/v1/orders/read-models/freshness")).status_code == 403
