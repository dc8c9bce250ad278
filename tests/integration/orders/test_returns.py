"""Returns and complaints: partial returns, refunds with tax, net and margin following,
and the rule that nobody returns more than was bought."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from .support import known_customer, new_product, outbox_events, place, problem


async def delivered_order(api: httpx.AsyncClient, customers_api: httpx.AsyncClient) -> dict:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", unit_cost="4.00", tax_rate="0.23")
    pen = await new_product(api, list_price="5.00", unit_cost="1.00", tax_rate="0.00")
    order = await place(api, customer, [{"sku": mug["sku"], "quantity": 3}, {"sku": pen["sku"], "quantity": 2}])
    for step in ("pay", "fulfill", "deliver"):
        assert (await api.post(f"/api/v1/orders/{order['id']}/{step}")).status_code == 200
    return order


async def test_accepted_partial_returns_refund_and_move_net_and_margin(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    order = await delivered_order(api, customers_api)
    url = f"/api/v1/orders/{order['id']}/returns"
    assert order["gross_amount"] == "40.00" and order["total_amount"] == "46.90"

    requested = await api.post(url, json={"lines": [{"line_no": 1, "quantity": 2}], "reason": "broken"})
    assert requested.status_code == 201, requested.text
    ret = requested.json()
    assert ret["status"] == "requested" and ret["amount"] == "20.00" and ret["refund_amount"] == "24.60"
    unchanged = (await api.get(f"/api/v1/orders/{order['id']}")).json()
    assert unchanged["returned_amount"] == "0.00" and unchanged["net_amount"] == "40.00"

    one = await api.get(requested.headers["location"])
    assert one.status_code == 200 and one.headers["etag"] == '"1"' and one.json() == ret
    problem(await api.post(f"{url}/{ret['id']}/accept", headers={"If-Match": '"2"'}), 412)
    accepted = await api.post(f"{url}/{ret['id']}/accept", json={"note": "ok"}, headers={"If-Match": '"1"'})
    assert accepted.status_code == 200, accepted.text
    assert (
        accepted.json()["status"] == "accepted"
        and accepted.headers["etag"] == '"2"'
        and accepted.json()["version"] == 2
    )
    after = (await api.get(f"/api/v1/orders/{order['id']}")).json()
    assert (
        after["returned_amount"] == "20.00" and after["refunded_amount"] == "24.60" and after["net_amount"] == "20.00"
    )
    assert after["cost_amount"] == "6.00" and after["margin"] == "14.00"  # 1 mug (4.00) + 2 pens (2.00) kept
    assert after["lines"][0]["returned_quantity"] == 2 and after["status"] == "delivered"
    again = problem(await api.post(f"{url}/{ret['id']}/reject"), 409)
    assert (
        again["type"].endswith("illegal-transition")
        and again["current_status"] == "accepted"
        and again["allowed_actions"] == []
    )

    complaint = (await api.post(url, json={"kind": "complaint", "lines": [{"line_no": 2, "quantity": 1}]})).json()
    rejected = await api.post(f"{url}/{complaint['id']}/reject", json={"note": "wear and tear"})
    assert rejected.json()["status"] == "rejected"
    assert (await api.get(f"/api/v1/orders/{order['id']}")).json()["net_amount"] == "20.00"

    events = await outbox_events(db, order["id"])
    kind, returned = events[-1]
    assert [k for k, _ in events].count("returned") == 1 and kind == "returned"
    assert (
        returned["return_id"] == ret["id"] and returned["refund_amount"] == "24.60" and returned["reason"] == "broken"
    )
    assert returned["returned_lines"] == [
        {"line_no": 1, "sku": order["lines"][0]["sku"], "quantity": 2, "amount": "20.00"}
    ]
    assert (
        returned["net_amount"] == "20.00"
        and returned["margin"] == "14.00"
        and returned["lines"][0]["returned_quantity"] == 2
    )
    listed = (await api.get(url)).json()["items"]
    assert [(r["kind"], r["status"]) for r in listed] == [("return", "accepted"), ("complaint", "rejected")]


async def test_over_returns_are_refused(api: httpx.AsyncClient, customers_api: httpx.AsyncClient) -> None:
    order = await delivered_order(api, customers_api)
    url = f"/api/v1/orders/{order['id']}/returns"
    too_many = problem(await api.post(url, json={"lines": [{"line_no": 1, "quantity": 4}]}), 422)
    assert too_many["type"].endswith("return-exceeds-purchase") and "bought 3" in too_many["errors"][0]["message"]
    assert (
        "no line 9"
        in problem(await api.post(url, json={"lines": [{"line_no": 9, "quantity": 1}]}), 422)["errors"][0]["message"]
    )

    first = (await api.post(url, json={"lines": [{"line_no": 1, "quantity": 2}]})).json()
    # 2 of 3 await a decision: only 1 is left to ask for.
    pending = problem(await api.post(url, json={"lines": [{"line_no": 1, "quantity": 2}]}), 422)
    assert "awaiting decision 2" in pending["errors"][0]["message"]
    second = (await api.post(url, json={"lines": [{"line_no": 1, "quantity": 1}]})).json()
    for ret in (first, second):
        assert (await api.post(f"{url}/{ret['id']}/accept")).status_code == 200
    problem(await api.post(url, json={"lines": [{"line_no": 1, "quantity": 1}]}), 422)
    whole = (await api.get(f"/api/v1/orders/{order['id']}")).json()
    # Three single-unit shares add up to the line exactly (cumulative rounding).
    assert (
        whole["lines"][0]["returned_quantity"] == 3
        and whole["returned_amount"] == "30.00"
        and whole["refunded_amount"] == "36.90"
    )

    # Concurrent requests for the last units: one wins.
    both = await asyncio.gather(*[api.post(url, json={"lines": [{"line_no": 2, "quantity": 2}]}) for _ in range(2)])
    assert sorted(r.status_code for r in both) == [201, 422]


async def test_returns_need_a_delivered_order_and_idempotency(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api)
    order = await place(api, customer, [{"sku": mug["sku"], "quantity": 1}])
    refused = problem(
        await api.post(f"/api/v1/orders/{order['id']}/returns", json={"lines": [{"line_no": 1, "quantity": 1}]}), 409
    )
    assert (
        refused["current_status"] == "placed"
        and refused["action"] == "return"
        and refused["allowed_actions"] == ["pay", "cancel"]
    )

    delivered = await delivered_order(api, customers_api)
    url = f"/api/v1/orders/{delivered['id']}/returns"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"lines": [{"line_no": 2, "quantity": 1}]}
    a = await api.post(url, json=body, headers=key)
    b = await api.post(url, json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    problem(await api.post(url, json={"lines": [{"line_no": 2, "quantity": 2}]}, headers=key), 422)
    assert len((await api.get(url)).json()["items"]) == 1
    problem(await api.post(url, json={"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}]}), 422)
    problem(await api.post(f"{url}/{uuid.uuid4()}/accept"), 404)
    problem(await api.get(f"{url}/{uuid.uuid4()}"), 404)
