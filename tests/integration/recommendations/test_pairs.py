"""Pair statistics from real order events: hand-checked figures, returns and cancellations,
equality with mlxtend (incremental counts and a full recomputation alike), bad input."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules

from relacja_contracts.events import OrderCancelledV1, OrderReturnedV1
from relacja_contracts.events.orders import ReturnedLine

from .conftest import order, product, registered, send_all


async def _pairs(api, product_id: uuid.UUID, **params) -> dict:
    response = await api.get(f"/api/v1/recommendations/products/{product_id}/bought-together", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_figures_follow_orders_returns_and_cancellations(api, db, producer) -> None:
    customer = uuid.uuid4()
    bread, butter, jam = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC) - timedelta(days=1)
    returned_order = uuid.uuid4()
    cancelled_order = uuid.uuid4()
    await send_all(
        producer,
        db,
        [
            registered(customer),
            product(bread, f"BREAD-{bread.hex[:6]}"),
            product(butter, f"BUTTER-{butter.hex[:6]}"),
            product(jam, f"JAM-{jam.hex[:6]}"),
            order(customer, [bread, butter], now),
            order(customer, [bread, butter, jam], now),
            order(customer, [bread, jam], now, order_id=returned_order),
            order(customer, [butter, jam], now, order_id=cancelled_order),
        ],
    )
    body = await _pairs(api, bread, min_lift=0)
    assert body["product"]["sku"].startswith("BREAD-")
    by_sku = {item["sku"].split("-")[0]: item for item in body["items"]}
    # bread is in 3 baskets; with butter in 2, with jam in 2.
    assert by_sku["BUTTER"]["count"] == 2 and by_sku["JAM"]["count"] == 2
    assert by_sku["BUTTER"]["confidence"] == 2 / 3
    assert by_sku["BUTTER"]["reverse_confidence"] == 2 / 3  # butter in 3 baskets
    n = body["baskets"]
    assert math.isclose(by_sku["JAM"]["lift"], 2 * n / (3 * 3), rel_tol=1e-12)
    assert math.isclose(by_sku["JAM"]["support"], 2 / n, rel_tol=1e-12)

    # The jam of the bread+jam order comes back; the butter+jam order is cancelled.
    later = now + timedelta(hours=1)
    await send_all(
        producer,
        db,
        [
            order(
                customer,
                [bread, jam],
                now,
                order_id=returned_order,
                returned={jam: 1},
                status="delivered",
                occurred_at=later,
                model=OrderReturnedV1,
                return_id=uuid.uuid4(),
                returned_lines=[ReturnedLine(line_no=2, sku="JAM", quantity=1, amount="10.00")],
                refund_amount="10.00",
            ),
            order(
                customer,
                [butter, jam],
                now,
                order_id=cancelled_order,
                status="cancelled",
                occurred_at=later,
                model=OrderCancelledV1,
                cancelled_from="placed",
                refund_amount="0",
            ),
        ],
    )
    body = await _pairs(api, bread, min_lift=0)
    by_sku = {item["sku"].split("-")[0]: item for item in body["items"]}
    # Baskets now: {bread, butter}, {bread, butter, jam}, {bread}. bread–jam is down to one
    # basket, under the minimum count (2): not shown, but counted.
    assert set(by_sku) == {"BUTTER"}
    assert by_sku["BUTTER"]["count"] == 2
    assert (by_sku["BUTTER"]["confidence"], by_sku["BUTTER"]["reverse_confidence"]) == (2 / 3, 1.0)
    low, high = sorted([bread, jam], key=lambda u: u.bytes)
    assert (
        await db.fetchval("SELECT pair_count FROM rec_pair_counts WHERE product_a = $1 AND product_b = $2", low, high)
        == 1
    )
    assert await db.fetchval("SELECT basket_count FROM rec_product_counts WHERE product_id = $1", jam) == 1
    rows = await db.fetch("SELECT product_id FROM rec_basket_items WHERE order_id = $1", returned_order)
    assert [r["product_id"] for r in rows] == [bread]
    assert await db.fetchval("SELECT count(*) FROM rec_basket_items WHERE order_id = $1", cancelled_order) == 0
    # A late, older snapshot changes nothing.
    await send_all(producer, db, [order(customer, [butter, jam], now, order_id=cancelled_order)])
    assert await db.fetchval("SELECT count(*) FROM rec_basket_items WHERE order_id = $1", cancelled_order) == 0


async def _assert_equal_to_mlxtend(api, baskets: list[list[int]], products: list[uuid.UUID]) -> None:
    for index, product_id in enumerate(products):
        body = await _pairs(api, product_id, min_lift=0, limit=100)
        n = body["baskets"]
        # The other tests' baskets count in N: they are empty baskets as far as these products go.
        matrix = np.zeros((n, len(products)), dtype=bool)
        for row, items in enumerate(baskets):
            matrix[row, items] = True
        frame = pd.DataFrame(matrix, columns=[str(p) for p in products])
        itemsets = apriori(frame, min_support=1e-12, max_len=2, use_colnames=True)
        rules = association_rules(
            itemsets,
            num_itemsets=n,
            metric="lift",
            min_threshold=0,
            return_metrics=["antecedent support", "consequent support", "support", "confidence", "lift"],
        )
        expected = {}
        for rule in rules.to_dict("records"):
            (a,) = rule["antecedents"]
            (b,) = rule["consequents"]
            if a == str(product_id) and rule["support"] * n >= 2 - 1e-9:  # the service's min_count is 2
                expected[b] = rule
        got = {item["product_id"]: item for item in body["items"]}
        assert set(got) == set(expected), index
        for other, rule in expected.items():
            item = got[other]
            assert item["count"] == round(rule["support"] * n)
            assert math.isclose(item["support"], rule["support"], rel_tol=1e-12)
            assert math.isclose(item["confidence"], rule["confidence"], rel_tol=1e-12)
            assert math.isclose(item["lift"], rule["lift"], rel_tol=1e-12)


async def test_counts_equal_mlxtend_incrementally_and_after_a_full_recomputation(api, db, producer) -> None:
    rng = random.Random(20261205)
    products = [uuid.uuid4() for _ in range(6)]
    customer = uuid.uuid4()
    now = datetime.now(UTC) - timedelta(days=2)
    baskets = [sorted(rng.sample(range(6), rng.randint(1, 4))) for _ in range(40)]
    await send_all(
        producer,
        db,
        [registered(customer)]
        + [product(p, f"R-{p.hex[:10]}") for p in products]
        + [order(customer, [products[i] for i in items], now) for items in baskets],
    )
    await _assert_equal_to_mlxtend(api, baskets, products)
    recomputed = await api.post("/api/v1/recommendations/statistics/recomputations")
    assert recomputed.status_code == 200, recomputed.text
    assert recomputed.json()["computed_at"] is not None
    await _assert_equal_to_mlxtend(api, baskets, products)


async def test_bad_input_is_answered_with_problems_naming_the_parameter(api) -> None:
    unknown = await api.get(f"/api/v1/recommendations/products/{uuid.uuid4()}/bought-together")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    for params, field in (({"limit": 101}, "query.limit"), ({"min_lift": -1}, "query.min_lift")):
        response = await api.get(f"/api/v1/recommendations/products/{uuid.uuid4()}/bought-together", params=params)
        assert response.status_code in (400, 422), response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    customer = await api.get(f"/api/v1/recommendations/customers/{uuid.uuid4()}/recommendations")
    assert customer.status_code == 404, customer.text
    too_many = await api.get(f"/api/v1/recommendations/customers/{uuid.uuid4()}/recommendations?limit=51")
    assert too_many.status_code in (400, 422) and too_many.json()["errors"][0]["field"] == "query.limit"
    for split in ("1971-01-01T00:00:00Z", "8999-01-01T00:00:00Z"):
        outside = await api.post("/api/v1/recommendations/evaluations", json={"split_at": split})
        assert outside.status_code == 422, outside.text
        assert outside.json()["type"].endswith("invalid-split")
        assert outside.json()["errors"][0]["field"] == "body.split_at"
    naive = await api.post("/api/v1/recommendations/evaluations", json={"split_at": "2002-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "body.split_at"
