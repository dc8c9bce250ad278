"""Reviews against the real engagement service, its PostgreSQL and the broker.

Fixtures ``api`` (the engagement service, directly), ``db`` and ``producer`` come from this
folder's conftest.py. The deliveries and erasures come in as events on the broker (as the orders and customers
services publish them); the review links are made by the real ``create_review_request``
on the engagement database, as the sender does when a review-request message goes out.
The whole story through the gateway, from a real order to the mail, is
tests/e2e/test_review_story.py.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from relacja_contracts.events import CustomerErasedV1, OrderDeliveredV1
from relacja_contracts.events.orders import OrderLine
from relacja_devstack import Stack
from relacja_engagement.app.reviews import create_review_request

from ...support import eventually, publish, read_topic

REVIEWS_CONSUMER = "engagement.reviews"


@pytest.fixture
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    created = create_async_engine(stack.database_url("engagement"))
    try:
        yield created
    finally:
        await created.dispose()


def delivered(customer_id: uuid.UUID, products: list[uuid.UUID | None]) -> OrderDeliveredV1:
    lines = [
        OrderLine(
            line_no=n,
            product_id=product,
            sku=f"SKU-{n}",
            quantity=1,
            unit_price=Decimal("10.00"),
            discount_amount=Decimal("0"),
            line_amount=Decimal("10.00"),
        )
        for n, product in enumerate(products, start=1)
    ]
    total = Decimal("10.00") * len(lines)
    now = datetime.now(UTC)
    return OrderDeliveredV1(
        customer_id=customer_id,
        order_id=uuid.uuid4(),
        order_number="R-" + uuid.uuid4().hex[:8],
        status="delivered",
        channel="web",
        placed_at=now - timedelta(days=3),
        currency="PLN",
        gross_amount=total,
        tax_amount=Decimal("0"),
        total_amount=total,
        returned_amount=Decimal("0"),
        refunded_amount=Decimal("0"),
        net_amount=total,
        cost_amount=None,
        margin=None,
        lines=lines,
        occurred_at=now,
    )


async def deliver(producer: AIOKafkaProducer, db: asyncpg.Connection, order: OrderDeliveredV1) -> None:
    """Publish the delivery and wait until the reviews' projection has it."""
    event = await publish(producer, order, source="/relacja/orders")

    async def applied() -> bool:
        outcome = await db.fetchval(
            "SELECT outcome FROM inbox_events WHERE consumer = $1 AND event_id = $2", REVIEWS_CONSUMER, event.id
        )
        assert outcome != "dead_lettered", "the reviews consumer dead-lettered the delivery"
        return outcome == "applied"

    await eventually(applied)


async def link(
    engine: AsyncEngine,
    stack: Stack,
    order: OrderDeliveredV1,
    products: list[uuid.UUID] | None = None,
    now: datetime | None = None,
) -> str:
    """A new review link for ``order``: the path of its URL (the service answers it directly)."""
    async with AsyncSession(engine) as session, session.begin():
        request = await create_review_request(
            session,
            customer_id=order.customer_id,
            order_id=order.order_id,
            product_ids=[str(p) for p in products or []],
            now=now or datetime.now(UTC),
            base_url=stack.gateway_url,
        )
    assert request.url.startswith(stack.gateway_url + "/api/v1/engagement/review-requests/")
    assert request.token in request.url
    return request.url.removeprefix(stack.gateway_url)


async def test_a_review_through_its_link_moderated_and_summarised(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    customer_id = uuid.uuid4()
    socks, hat, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    order = delivered(customer_id, [socks, hat, None])  # a line without a catalog product: nothing to review
    await deliver(producer, db, order)
    path = await link(engine, stack, order)  # no products named: every delivered product
    token = path.rsplit("/", 1)[1]
    stored = "SELECT count(*) FROM eng_review_requests WHERE token_hash = $1"
    assert (
        await db.fetchval(stored, token) == 0
        and await db.fetchval(stored, hashlib.sha256(token.encode()).hexdigest()) == 1
    )

    shown = await api.get(path)
    assert shown.status_code == 200, shown.text
    assert shown.json()["answerable"] is True and shown.json()["refusal"] is None
    assert {p["product_id"] for p in shown.json()["products"]} == {str(socks), str(hat)}

    reviews = f"{path}/reviews"
    too_high = await api.post(reviews, json={"product_id": str(socks), "rating": 6, "comment": "!"})
    assert too_high.status_code == 422 and [e["field"] for e in too_high.json()["errors"]] == ["body.rating"]
    not_bought = await api.post(reviews, json={"product_id": str(other), "rating": 5})
    assert not_bought.status_code == 422, not_bought.text
    assert not_bought.json()["type"].endswith("product-not-reviewable")
    assert [e["field"] for e in not_bought.json()["errors"]] == ["body.product_id"]

    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"product_id": str(socks), "rating": 4, "comment": "Warm, a bit tight", "reviewer_name": "Ada K."}
    submitted = await api.post(reviews, json=body, headers=key)
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert (review["status"], review["rating"], review["comment"]) == ("pending", 4, "Warm, a bit tight")
    assert submitted.headers["Location"] == f"/api/v1/engagement/reviews/{review['id']}"
    replayed = await api.post(reviews, json=body, headers=key)
    assert replayed.status_code == 201 and replayed.json()["id"] == review["id"]

    again = await api.post(reviews, json={"product_id": str(socks), "rating": 1})
    assert again.status_code == 410 and again.json()["type"].endswith("review-request-used")
    assert [e["field"] for e in again.json()["errors"]] == ["path.token"]

    # Not public until a moderator approves the comment.
    assert (await api.get(f"/api/v1/engagement/products/{socks}/reviews")).json()["items"] == []
    queue = await api.get("/api/v1/engagement/reviews", params={"status": "pending", "product_id": str(socks)})
    assert [r["id"] for r in queue.json()["items"]] == [review["id"]]
    staff = queue.json()["items"][0]
    assert staff["customer_id"] == str(customer_id) and staff["verified_purchase"] is True

    one = await api.get(f"/api/v1/engagement/reviews/{review['id']}")
    stale = await api.post(f"/api/v1/engagement/reviews/{review['id']}/approve", headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    approved = await api.post(
        f"/api/v1/engagement/reviews/{review['id']}/approve", headers={"If-Match": one.headers["ETag"]}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.headers["ETag"] == '"2"'
    twice = await api.post(f"/api/v1/engagement/reviews/{review['id']}/approve")
    assert twice.status_code == 409 and twice.json()["type"].endswith("illegal-transition")
    assert (twice.json()["current_status"], twice.json()["allowed_actions"]) == ("approved", ["reject"])

    public = (await api.get(f"/api/v1/engagement/products/{socks}/reviews")).json()["items"]
    assert [(r["id"], r["rating"], r["comment"], r["reviewer_name"]) for r in public] == [
        (review["id"], 4, "Warm, a bit tight", "Ada K.")
    ]
    assert "customer_id" not in public[0]

    # A bare rating has nothing to moderate; it is the link's last product, so the link is spent.
    bare = await api.post(reviews, json={"product_id": str(hat), "rating": 5})
    assert bare.status_code == 201 and bare.json()["status"] == "approved"
    spent = (await api.get(path)).json()
    assert (spent["answerable"], spent["refusal"]) == (False, "used")
    assert all(p["reviewed"] for p in spent["products"])
    summary = (await api.get(f"/api/v1/engagement/products/{hat}/rating-summary")).json()
    assert (summary["review_count"], summary["average_rating"], summary["distribution"]["5"]) == (1, "5.00", 1)

    records = await read_topic(
        stack.bootstrap_servers,
        "relacja.engagement",
        header="ce_type",
        values={"relacja.engagement.review.submitted.v1", "relacja.engagement.review.approved.v1"},
        until=lambda found: sum(r.key == str(customer_id).encode() for r in found) >= 4,
    )
    mine = [dict(r.headers)["ce_type"].decode() for r in records if r.key == str(customer_id).encode()]
    assert sorted(mine) == sorted(
        ["relacja.engagement.review.submitted.v1"] * 2 + ["relacja.engagement.review.approved.v1"] * 2
    )


async def test_rejection_needs_a_reason_and_is_final(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    product = uuid.uuid4()
    order = delivered(uuid.uuid4(), [product])
    await deliver(producer, db, order)
    path = await link(engine, stack, order, [product])
    review = (
        await api.post(f"{path}/reviews", json={"product_id": str(product), "rating": 1, "comment": "spam"})
    ).json()
    url = f"/api/v1/engagement/reviews/{review['id']}"

    no_reason = await api.post(f"{url}/reject", json={})
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["body.reason"]
    rejected = await api.post(f"{url}/reject", json={"reason": "advertising"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected", "advertising")
    for action in ("approve", "reject"):
        refused = await api.post(f"{url}/{action}", json={"reason": "x"} if action == "reject" else None)
        assert refused.status_code == 409, refused.text
        assert (refused.json()["current_status"], refused.json()["allowed_actions"]) == ("rejected", [])
    summary = (await api.get(f"/api/v1/engagement/products/{product}/rating-summary")).json()
    assert (summary["review_count"], summary["average_rating"]) == (0, None)
    assert (await api.post(f"/api/v1/engagement/reviews/{uuid.uuid4()}/approve")).status_code == 404


async def test_an_expired_or_unknown_link_is_refused(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    product = uuid.uuid4()
    order = delivered(uuid.uuid4(), [product])
    await deliver(producer, db, order)
    path = await link(engine, stack, order, now=datetime.now(UTC) - timedelta(days=31))  # valid 30 days
    shown = (await api.get(path)).json()
    assert (shown["answerable"], shown["refusal"]) == (False, "expired")
    late = await api.post(f"{path}/reviews", json={"product_id": str(product), "rating": 5})
    assert late.status_code == 410 and late.json()["type"].endswith("review-request-expired")
    assert [e["field"] for e in late.json()["errors"]] == ["path.token"]
    assert await db.fetchval("SELECT count(*) FROM eng_reviews WHERE product_id = $1", product) == 0

    unknown = "/api/v1/engagement/review-requests/" + "x" * 43
    assert (await api.get(unknown)).status_code == 404
    assert (await api.post(f"{unknown}/reviews", json={"product_id": str(product), "rating": 5})).status_code == 404


async def test_erasure_removes_the_reviewers_personal_data(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    customer_id, product = uuid.uuid4(), uuid.uuid4()
    order = delivered(customer_id, [product])
    await deliver(producer, db, order)
    path = await link(engine, stack, order)
    body = {"product_id": str(product), "rating": 5, "comment": "I am Ada from Gdańsk", "reviewer_name": "Ada"}
    review = (await api.post(f"{path}/reviews", json=body)).json()
    assert (await api.post(f"/api/v1/engagement/reviews/{review['id']}/approve")).status_code == 200
    unused = await link(engine, stack, order)

    await publish(producer, CustomerErasedV1(customer_id=customer_id, erased_at=datetime.now(UTC)), source="/x")

    async def erased() -> dict | None:
        got = (await api.get(f"/api/v1/engagement/reviews/{review['id']}")).json()
        return got if got["erased"] else None

    after = await eventually(erased)
    assert (after["customer_id"], after["comment"], after["reviewer_name"]) == (None, None, None)
    assert after["rating"] == 5 and after["status"] == "approved"
    public = (await api.get(f"/api/v1/engagement/products/{product}/reviews")).json()["items"]
    assert [(r["comment"], r["reviewer_name"]) for r in public] == [(None, None)]
    summary = (await api.get(f"/api/v1/engagement/products/{product}/rating-summary")).json()
    assert summary["review_count"] == 1  # the anonymous rating still counts
    assert (await api.get(unused)).status_code == 404  # their links are gone
    assert await db.fetchval("SELECT count(*) FROM eng_delivered_lines WHERE customer_id = $1", customer_id) == 0
    found = await api.get("/api/v1/engagement/reviews", params={"customer_id": str(customer_id)})
    assert found.json()["items"] == []
