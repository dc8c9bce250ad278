"""A customer's suggestions from real events: the profiling consent decides whether they are
personal; merges and erasure; the refreshed events; upgrades."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from relacja_contracts.events import ConsentWithdrawnV1, CustomerErasedV1, CustomersMergedV1
from relacja_contracts.topics import RECOMMENDATIONS

from ...support import read_topic
from .conftest import order, product, profiling, registered, send_all


async def _suggestions(api, customer_id: uuid.UUID, expect: int = 200) -> dict:
    response = await api.get(f"/api/v1/recommendations/customers/{customer_id}/recommendations")
    assert response.status_code == expect, response.text
    return response.json()


async def test_consent_merge_and_erasure(api, db, producer, stack) -> None:
    alice, bob, others = uuid.uuid4(), uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    camera, lens, bag, card, filler = (uuid.uuid4() for _ in range(5))
    at = datetime.now(UTC) - timedelta(days=3)
    consent = uuid.uuid4()
    await send_all(
        producer,
        db,
        [registered(c) for c in (alice, bob, *others)]
        + [
            product(camera, "CAM", category="photo", price="1000.00"),
            product(lens, "LENS", category="photo", price="400.00"),
            product(bag, "BAG", category="photo", price="80.00"),
            product(card, "CARD", category="photo", price="30.00", active=False),
        ]
        # Other customers buy camera with lens (three times) and bag (twice): the pairs.
        + [order(c, [camera, lens, card], at) for c in others]
        + [order(others[0], [camera, bag], at), order(others[1], [camera, bag], at)]
        + [order(alice, [camera], at + timedelta(hours=1)), order(bob, [bag], at)]
        # Baskets without these products, so that N is large enough for lift > 1 even in an empty database.
        + [order(others[2], [filler], at) for _ in range(12)],
    )
    # After the orders (another topic: applied in any order relative to them), so the first
    # refreshed event already has the baskets.
    await send_all(producer, db, [profiling(alice, consent)])
    without = await _suggestions(api, bob)
    assert without["personalised"] is False
    assert all(item["source"] == "popular" and item["reason"] == "popular" for item in without["items"])

    found = await _suggestions(api, alice)
    assert found["personalised"] is True
    mine = [item for item in found["items"] if item["source"] == "bought_together"]
    assert [item["sku"] for item in mine] == ["LENS", "BAG"]  # confidence 3/6 before 2/6
    assert mine[0]["reason"] == "often bought with Product CAM" and mine[0]["because_of"]["sku"] == "CAM"
    skus = {item["sku"] for item in found["items"]}
    assert "CAM" not in skus  # already bought
    assert "CARD" not in skus  # inactive

    # The announcer (not the consumer) writes the refreshed event, within a second or so;
    # later changes of a customer not yet announced are announced together.
    def announced(personalised: bool):
        return lambda found: any(json.loads(r.value)["personalised"] is personalised for r in found)

    records = await read_topic(
        stack.bootstrap_servers, RECOMMENDATIONS.name, header="ce_subject", values={str(alice)}, until=announced(True)
    )
    first = json.loads(records[0].value)
    assert first["personalised"] is True and [p["sku"] for p in first["products"]][:2] == ["LENS", "BAG"]
    assert first["products"][0]["because_of_product_id"] == str(camera)

    # Bob merges into Alice: his bag is hers now, so it is no longer suggested.
    await send_all(
        producer,
        db,
        [CustomersMergedV1(customer_id=alice, merged_customer_id=bob, merged_at=datetime.now(UTC))],
    )
    merged = await _suggestions(api, bob, expect=404)
    assert merged["type"].endswith("customer-merged") and merged["merged_into"] == str(alice)
    assert [i["sku"] for i in (await _suggestions(api, alice))["items"] if i["source"] == "bought_together"] == ["LENS"]

    await send_all(
        producer,
        db,
        [
            ConsentWithdrawnV1(
                customer_id=alice,
                consent_id=consent,
                purpose="profiling",
                source="tests",
                occurred_at=datetime.now(UTC),
            )
        ],
    )
    assert (await _suggestions(api, alice))["personalised"] is False

    records = await read_topic(
        stack.bootstrap_servers, RECOMMENDATIONS.name, header="ce_subject", values={str(alice)}, until=announced(False)
    )
    last = json.loads(records[-1].value)
    assert last == {**last, "personalised": False, "products": []}

    await send_all(producer, db, [CustomerErasedV1(customer_id=alice, erased_at=datetime.now(UTC))])
    assert (await _suggestions(api, alice, expect=404))["type"].endswith("not-found")
    assert (
        await db.fetchval("SELECT count(*) FROM rec_basket_items WHERE customer_id = ANY($1::uuid[])", [alice, bob])
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM rec_consents WHERE customer_id = $1", alice) == 0
    # The baskets stay in the anonymous counts: camera and lens are still bought together.
    pairs = (await api.get(f"/api/v1/recommendations/products/{camera}/bought-together")).json()
    assert {item["sku"] for item in pairs["items"]} == {"LENS", "BAG"}


async def test_upgrades_show_what_buyers_went_on_to_buy_and_the_margin(api, db, producer) -> None:
    buyers = [uuid.uuid4() for _ in range(3)]
    basic, better, best, other = (uuid.uuid4() for _ in range(4))
    at = datetime.now(UTC) - timedelta(days=30)
    category = f"drills-{uuid.uuid4().hex[:6]}"
    await send_all(
        producer,
        db,
        [registered(b) for b in buyers]
        + [
            product(basic, "DRILL-1", category=category, price="100.00", cost="70.00"),
            product(better, "DRILL-2", category=category, price="180.00", cost="100.00"),
            product(best, "DRILL-3", category=category, price="300.00", cost=None),
            product(other, "SAW-1", category="saws", price="500.00"),
        ]
        + [order(b, [basic], at) for b in buyers]
        + [order(b, [better, other], at + timedelta(days=5)) for b in buyers[:2]]
        + [order(buyers[2], [best], at + timedelta(days=6))],
    )
    response = await api.get(f"/api/v1/recommendations/products/{basic}/upgrades")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["buyers"] == 3
    assert [(i["sku"], i["customers"]) for i in body["items"]] == [("DRILL-2", 2), ("DRILL-3", 1)]
    assert body["items"][0]["price_difference"] == "80.0000"
    assert body["items"][0]["margin_difference"] == "50.0000"  # (180 − 100) − (100 − 70)
    assert body["items"][1]["margin_difference"] is None  # cost unknown
    assert abs(body["items"][0]["share"] - 2 / 3) < 1e-12
