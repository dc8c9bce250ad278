"""Coupons at checkout (issue #14, part 7) against the real PostgreSQL and broker of the
test stack: the coupons projection fed by relacja.loyalty, the discount priced into the
order, its events, the refusals (422 coupon-rejected naming the reason; nothing written),
a cancellation giving the use back, and orders racing for one coupon: exactly as many win
as the coupon has uses.

The coupons are published on relacja.loyalty as the loyalty service's relay publishes
them (``tests.support.publish``), so the orders service's own consumer projects them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events.loyalty import CouponIssuedV1, CouponRevokedV1

from ...support import applied, eventually, publish
from .support import known_customer, new_product, outbox_events, problem

CONSUMER = "orders.coupons"


async def issue(producer: AIOKafkaProducer, db: asyncpg.Connection, **fields: Any) -> CouponIssuedV1:
    """A coupon issued by the loyalty service, once the orders service has projected it."""
    now = datetime.now(UTC)
    payload = CouponIssuedV1.model_validate(
        {
            "coupon_id": uuid.uuid4(),
            "code": "T" + uuid.uuid4().hex[:9].upper(),
            "offer_id": uuid.uuid4(),
            "discount_kind": "percentage",
            "discount_value": "10",
            "applies_to": "order",
            "max_uses": 1,
            "combinable": True,
            "issued_at": now,
            **fields,
        }
    )
    event = await publish(producer, payload, source="/relacja/loyalty")
    await eventually(lambda: applied(db, CONSUMER, event.id))
    return payload


def order_body(customer: str, lines: list[dict], **fields: Any) -> dict:
    return {"customer_id": customer, "channel": "web", "currency": "PLN", "lines": lines, **fields}


async def uses(db: asyncpg.Connection, coupon: CouponIssuedV1) -> int:
    return await db.fetchval("SELECT uses FROM coupons WHERE coupon_id = $1", coupon.coupon_id)


async def test_an_order_with_a_coupon_is_discounted_taxed_after_it_and_tells_its_events(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", tax_rate="0.23", category="kitchen")
    plate = await new_product(api, list_price="5.00", tax_rate="0.08", category="dining")
    coupon = await issue(producer, db, customer_id=uuid.UUID(customer), code="Ab" + uuid.uuid4().hex[:8].upper())

    # The code is found whatever its case; the order names it as it was issued.
    placed = await api.post(
        "/api/v1/orders",
        json=order_body(
            customer,
            [{"sku": mug["sku"], "quantity": 3}, {"sku": plate["sku"], "quantity": 2}],
            coupon_code=coupon.code.lower(),
        ),
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["coupon_code"] == coupon.code and order["discount_amount"] == "4.00"
    assert [
        (li["coupon_discount_amount"], li["discount_amount"], li["line_amount"], li["tax_amount"])
        for li in order["lines"]
    ] == [
        ("3.00", "3.00", "27.00", "6.21"),
        ("1.00", "1.00", "9.00", "0.72"),
    ]
    assert (order["gross_amount"], order["tax_amount"], order["total_amount"]) == ("36.00", "6.93", "42.93")
    assert await uses(db, coupon) == 1

    [(kind, payload)] = await outbox_events(db, order["id"])
    assert kind == "placed" and payload["coupon_code"] == coupon.code and payload["discount_amount"] == "4.00"
    assert payload["lines"][0]["discount_amount"] == "3.00" and payload["total_amount"] == "42.93"

    # Used up: the second order is refused and nothing of it is written.
    orders_before = await db.fetchval("SELECT count(*) FROM orders WHERE customer_id = $1", uuid.UUID(customer))
    used_up = problem(
        await api.post(
            "/api/v1/orders",
            json=order_body(customer, [{"sku": mug["sku"], "quantity": 1}], coupon_code=coupon.code),
        ),
        422,
    )
    assert used_up["type"].endswith("coupon-rejected") and used_up["reason"] == "used_up"
    assert used_up["coupon_code"] == coupon.code and used_up["errors"][0]["field"] == "body.coupon_code"
    assert await db.fetchval("SELECT count(*) FROM orders WHERE customer_id = $1", uuid.UUID(customer)) == orders_before

    # A cancellation gives the use back, and its event names the coupon (the loyalty service releases it).
    cancelled = await api.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert await uses(db, coupon) == 0
    events = await outbox_events(db, order["id"])
    assert events[-1][0] == "cancelled" and events[-1][1]["coupon_code"] == coupon.code
    again = await api.post(
        "/api/v1/orders", json=order_body(customer, [{"sku": mug["sku"], "quantity": 1}], coupon_code=coupon.code)
    )
    assert again.status_code == 201, again.text
    assert again.json()["discount_amount"] == "1.00" and await uses(db, coupon) == 1

    # An order without a coupon says so.
    plain = await api.post("/api/v1/orders", json=order_body(customer, [{"sku": mug["sku"], "quantity": 1}]))
    assert plain.json()["coupon_code"] is None and plain.json()["discount_amount"] is None


async def test_refusals_name_the_reason_and_write_nothing(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", category="kitchen")
    now = datetime.now(UTC)
    cases = {
        "expired": await issue(producer, db, valid_until=now - timedelta(minutes=1)),
        "not_yet_valid": await issue(producer, db, valid_from=now + timedelta(days=1)),
        "other_customer": await issue(producer, db, customer_id=uuid.uuid4()),
        "below_minimum": await issue(producer, db, minimum_order_value="50.00", currency="PLN"),
        "not_applicable": await issue(producer, db, applies_to="category", category="garden"),
        "not_combinable": await issue(producer, db, combinable=False),
        "revoked": await issue(producer, db),
    }
    revoked = cases["revoked"]
    event = await publish(
        producer,
        CouponRevokedV1(coupon_id=revoked.coupon_id, code=revoked.code, revoked_at=datetime.now(UTC)),
        source="/relacja/loyalty",
    )
    await eventually(lambda: applied(db, CONSUMER, event.id))

    line: dict[str, Any] = {"sku": mug["sku"], "quantity": 2}
    for reason, coupon in cases.items():
        lines = [line | {"discount_percent": "5"}] if reason == "not_combinable" else [line]
        refused = problem(
            await api.post("/api/v1/orders", json=order_body(customer, lines, coupon_code=coupon.code)), 422
        )
        assert (refused["reason"], refused["coupon_code"]) == (reason, coupon.code), refused
        assert await uses(db, coupon) == 0
    unknown = problem(
        await api.post("/api/v1/orders", json=order_body(customer, [line], coupon_code="NO-SUCH-CODE")), 422
    )
    assert unknown["reason"] == "unknown" and "NO-SUCH-CODE" in unknown["detail"]
    assert await db.fetchval("SELECT count(*) FROM orders WHERE customer_id = $1", uuid.UUID(customer)) == 0

    # Bad input in the field itself is the schema's 422.
    for bad in (None, "", "two words"):
        invalid = problem(await api.post("/api/v1/orders", json=order_body(customer, [line], coupon_code=bad)), 422)
        assert invalid["errors"][0]["field"] == "body.coupon_code"


async def test_an_idempotent_retry_replays_the_order_without_a_second_use(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00")
    coupon = await issue(producer, db, discount_kind="fixed_amount", discount_value="2.50", currency="PLN", max_uses=2)
    body = order_body(customer, [{"sku": mug["sku"], "quantity": 1}], coupon_code=coupon.code)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first, second = [await api.post("/api/v1/orders", json=body, headers=key) for _ in range(2)]
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert first.json()["discount_amount"] == "2.50" and await uses(db, coupon) == 1


async def test_orders_racing_for_a_coupon_win_exactly_as_many_times_as_it_has_uses(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    """Every racing order reads the coupon as still usable (the test holds the coupon's row
    lock while they arrive, so all of them pass the check and queue on the redemption);
    then the lock goes and they redeem concurrently: only the conditional UPDATE decides."""
    customers = [await known_customer(customers_api, api) for _ in range(3)]
    mug = await new_product(api, list_price="10.00")
    racers = 8
    for max_uses in (1, 3):
        coupon = await issue(producer, db, max_uses=max_uses)
        bodies = [
            order_body(customers[n % 3], [{"sku": mug["sku"], "quantity": 1}], coupon_code=coupon.code)
            for n in range(racers)
        ]
        async with db.transaction():
            await db.execute("SELECT 1 FROM coupons WHERE coupon_id = $1 FOR UPDATE", coupon.coupon_id)
            pending = [asyncio.create_task(api.post("/api/v1/orders", json=body)) for body in bodies]

            async def all_waiting() -> bool:
                # Inside a transaction pg_stat_activity is a snapshot taken at its first read: clear it.
                await db.execute("SELECT pg_stat_clear_snapshot()")
                waiting = await db.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE coupons%'"
                )
                return waiting == racers

            await eventually(all_waiting, timeout=60)
        responses = await asyncio.gather(*pending)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * max_uses + [422] * (racers - max_uses), [r.text for r in responses]
        assert {r.json()["reason"] for r in responses if r.status_code == 422} == {"used_up"}
        assert await uses(db, coupon) == max_uses
        redeemed = await db.fetchval("SELECT count(*) FROM orders WHERE coupon_id = $1", coupon.coupon_id)
        assert redeemed == max_uses


async def test_a_free_product_and_a_category_coupon(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="12.00", tax_rate="0.23", category="kitchen")
    pen = await new_product(api, list_price="2.00", tax_rate="0.23", category="office")
    free_mug = await issue(
        producer, db, discount_kind="free_product", discount_value="0", applies_to="product", product_id=mug["id"]
    )
    order = (
        await api.post(
            "/api/v1/orders",
            json=order_body(
                customer,
                [{"sku": pen["sku"], "quantity": 5}, {"sku": mug["sku"], "quantity": 2}],
                coupon_code=free_mug.code,
            ),
        )
    ).json()
    assert order["discount_amount"] == "12.00" and order["lines"][1]["line_amount"] == "12.00"
    assert order["lines"][0]["coupon_discount_amount"] == "0.00" and order["gross_amount"] == "22.00"

    office = await issue(
        producer, db, discount_kind="percentage", discount_value="50", applies_to="category", category="office"
    )
    order = (
        await api.post(
            "/api/v1/orders",
            json=order_body(
                customer,
                [{"sku": pen["sku"], "quantity": 5}, {"sku": mug["sku"], "quantity": 1}],
                coupon_code=office.code,
            ),
        )
    ).json()
    assert order["discount_amount"] == "5.00" and Decimal(order["gross_amount"]) == Decimal("17.00")


async def test_a_merged_customers_personal_coupon_is_the_survivors(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    survivor = await known_customer(customers_api, api)
    other = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00")
    coupon = await issue(producer, db, customer_id=uuid.UUID(other))
    version = (await customers_api.get(f"/api/v1/customers/{survivor}")).headers["etag"]
    merged = await customers_api.post(
        f"/api/v1/customers/{survivor}/merge", json={"merge_customer_id": other}, headers={"If-Match": version}
    )
    assert merged.status_code == 200, merged.text

    async def rekeyed() -> bool:
        owner = await db.fetchval("SELECT customer_id FROM coupons WHERE coupon_id = $1", coupon.coupon_id)
        return str(owner) == survivor

    await eventually(rekeyed)
    placed = await api.post(
        "/api/v1/orders", json=order_body(survivor, [{"sku": mug["sku"], "quantity": 1}], coupon_code=coupon.code)
    )
    assert placed.status_code == 201, placed.text


async def test_the_import_takes_no_coupon(api: httpx.AsyncClient) -> None:
    """Historical orders were priced by the old system (their discounts come as line
    discount_amount); a coupon column is an unknown column, refused before anything is written."""
    body = "customer_external_id,placed_at,total_amount,currency,coupon_code\nx,2020-01-01T00:00:00Z,10.00,PLN,ABC\n"
    refused = await api.post("/api/v1/orders/imports", content=body, headers={"Content-Type": "text/csv"})
    assert refused.status_code in (400, 422), refused.text
    assert "coupon_code" in refused.text
