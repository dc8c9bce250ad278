"""Scores and rule-based segments through the running service: full recomputation on
demand, incremental scoring by events, segment-changed and membership events in the
outbox (parsed back with the contract models), distributions, and the segment API."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from relacja_contracts import from_kafka_headers
from relacja_contracts.events import (
    CustomerRegisteredV1,
    CustomerSegmentChangedV1,
    OrderCancelledV1,
    SegmentMemberAddedV1,
    SegmentMemberRemovedV1,
)

from ...support import eventually
from .conftest import CONSUMED_WITHIN, order_event

NOW = datetime.now(UTC)
# Scores are ranks among every customer in the shared test database, and other tests
# (churn's) publish orders decades in the past; a last purchase older than all of them is
# the least recent for sure.
LONG_AGO = datetime(1901, 1, 1, 12, tzinfo=UTC)


async def outbox_events(db, event_type: str, customer_id: uuid.UUID) -> list[tuple]:
    rows = await db.fetch(
        "SELECT headers, payload FROM outbox_events WHERE event_type = $1 AND key = $2 ORDER BY id",
        event_type,
        str(customer_id),
    )
    return [(json.loads(r["headers"]), json.loads(r["payload"])) for r in rows]


def envelope_ok(headers: list) -> None:
    event = from_kafka_headers([(name, value.encode()) for name, value in headers])
    assert event.source == "/relacja/segmentation"


async def applied(api, customer_id, orders: int, tags: list[str] | None = None):
    """The profile once ``orders`` orders (and, if given, the registration's ``tags``) are in it."""

    async def check():
        response = await api.get(f"/api/v1/segmentation/customers/{customer_id}")
        if response.status_code != 200:
            return None
        body = response.json()
        return body if body["orders_count"] == orders and (tags is None or body["tags"] == tags) else None

    return await eventually(check, timeout=CONSUMED_WITHIN)


async def test_recomputation_scores_everybody_and_says_what_changed(api, publish, db) -> None:
    big, small = uuid.uuid4(), uuid.uuid4()
    for _ in range(6):
        await publish(order_event(big, gross="900.00", cost="100.00", placed_at=NOW - timedelta(days=_ * 20 + 1)))
    await publish(order_event(small, gross="1.00", cost="0.90", placed_at=LONG_AGO))
    await applied(api, big, 6)
    await applied(api, small, 1)

    today = datetime.now(UTC).date()
    response = await api.post("/api/v1/segmentation/recomputations", json={})
    assert response.status_code == 200, response.text
    result = response.json()
    # The reference date is the service's today: read the clock around the call, not at import (midnight UTC).
    assert result["customers_scored"] >= 2
    assert result["reference_date"] in {today.isoformat(), datetime.now(UTC).date().isoformat()}

    top = (await api.get(f"/api/v1/segmentation/customers/{big}")).json()
    low = (await api.get(f"/api/v1/segmentation/customers/{small}")).json()
    assert top["rfm"]["monetary"] >= low["rfm"]["monetary"]
    assert top["rfm"]["recency"] > low["rfm"]["recency"]
    assert top["abc_class"] == "A" and low["abc_class"] in ("B", "C")
    assert top["quadrant"]["code"] == "true_friends" and top["quadrant"]["treatment"]
    assert low["quadrant"]["code"] in ("strangers", "butterflies")

    events = await outbox_events(db, CustomerSegmentChangedV1.event_type, big)
    dimensions = {}
    for headers, payload in events:
        envelope_ok(headers)
        change = CustomerSegmentChangedV1.model_validate(payload)
        dimensions[change.dimension] = change
    assert set(dimensions) == {"rfm", "abc", "quadrant"}
    assert dimensions["abc"].new == "A" and dimensions["rfm"].new == top["rfm"]["segment"]

    # The distributions count these two where their profiles put them (exact figures, which
    # other tests' customers make unknowable here: test_distributions.py).
    rfm = {b["segment"]: b for b in (await api.get("/api/v1/segmentation/rfm")).json()["segments"]}
    abc_response = (await api.get("/api/v1/segmentation/abc")).json()
    abc = {c["abc_class"]: c for c in abc_response["classes"]}
    for profile in (top, low):
        revenue = Decimal(profile["net_revenue"]["amount"])
        for bucket in (rfm[profile["rfm"]["segment"]], abc[profile["abc_class"]]):
            assert bucket["customers"] >= 1 and Decimal(bucket["net_revenue"]) >= revenue, (
                profile["customer_id"],
                bucket,
            )
    assert abc_response["cutoffs"] == {"a": 0.8, "b": 0.95} and "upper class" in abc_response["straddling_rule"]
    matrix = (await api.get("/api/v1/segmentation/loyalty-matrix")).json()
    assert [q["quadrant"] for q in matrix["quadrants"]] == ["true_friends", "butterflies", "barnacles", "strangers"]
    assert all(q["measurement"] and q["treatment"] for q in matrix["quadrants"])

    # A second recomputation with nothing changed emits nothing new for these customers.
    await api.post("/api/v1/segmentation/recomputations", json={})
    assert len(await outbox_events(db, CustomerSegmentChangedV1.event_type, big)) == len(events)


async def test_an_order_event_rescores_the_customer_and_emits_the_change(api, publish, db) -> None:
    customer = uuid.uuid4()
    await publish(order_event(customer, gross="3.00", cost="2.90", placed_at=LONG_AGO))
    await applied(api, customer, 1)
    assert (await api.post("/api/v1/segmentation/recomputations", json={})).status_code == 200
    before = (await api.get(f"/api/v1/segmentation/customers/{customer}")).json()
    for days in (1, 2, 3, 4, 5, 6):
        await publish(order_event(customer, gross="5000.00", cost="100.00", placed_at=NOW - timedelta(days=days)))
    after = await applied(api, customer, 7)
    assert after["rfm"]["recency"] > before["rfm"]["recency"]
    assert after["abc_class"] == "A" and after["quadrant"]["code"] == "true_friends"
    triggered = [
        CustomerSegmentChangedV1.model_validate(payload)
        for _, payload in await outbox_events(db, CustomerSegmentChangedV1.event_type, customer)
        if payload["trigger"] == "event"
    ]
    assert {c.dimension for c in triggered} >= {"abc", "quadrant"}
    assert all(c.old != c.new for c in triggered)


async def test_invalid_rules_are_422_naming_the_field(api) -> None:
    for rule, field in (
        ({"field": "shoe_size", "op": "eq", "value": 1}, "body.rule.field"),
        ({"and": [{"field": "purchases", "op": "gte", "value": "two"}]}, "body.rule.and[0].value"),
        ({"field": "abc_class", "op": "eq", "value": "Z"}, "body.rule.value"),
    ):
        for path in ("/api/v1/segmentation/segments/preview", "/api/v1/segmentation/segments"):
            body = {"rule": rule} if path.endswith("preview") else {"name": f"bad-{uuid.uuid4()}", "rule": rule}
            response = await api.post(path, json=body)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (
        await api.post("/api/v1/segmentation/segments/preview", json={"rule": {"tag": "x"}, "extra": 1})
    ).status_code == 422
    assert (await api.get("/api/v1/segmentation/segments/fields")).status_code == 200


async def test_a_segment_materialises_stays_current_and_streams(api, publish, db) -> None:
    tag = f"seg-{uuid.uuid4().hex[:8]}"
    members = [uuid.uuid4() for _ in range(5)]
    orders = [uuid.uuid4() for _ in members]
    for i, customer in enumerate(members):
        await publish(
            CustomerRegisteredV1(
                customer_id=customer,
                kind="person",
                display_name="x",
                lifecycle_stage="customer",
                registered_at=NOW,
                tags=[tag],
            )
        )
        await publish(
            order_event(
                customer, order_id=orders[i], gross=f"{100 + i}.00", placed_at=NOW - timedelta(days=2), occurred_at=NOW
            )
        )
    for customer in members:
        # Registrations (the tag) and orders travel on different topics: wait for both.
        await applied(api, customer, 1, tags=[tag])
    rule = {"and": [{"tag": tag}, {"field": "net_revenue", "op": "gte", "value": "102"}]}

    preview = (await api.post("/api/v1/segmentation/segments/preview", json={"rule": rule})).json()
    assert preview["count"] == 3 and set(preview["sample"]) == {str(c) for c in members[2:]}

    key = str(uuid.uuid4())
    created = await api.post(
        "/api/v1/segmentation/segments", json={"name": tag, "rule": rule}, headers={"Idempotency-Key": key}
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["members"] == 3
    assert (
        created.headers["Location"] == f"/api/v1/segmentation/segments/{segment['id']}"
        and created.headers["ETag"] == '"1"'
    )
    again = await api.post(
        "/api/v1/segmentation/segments", json={"name": tag, "rule": rule}, headers={"Idempotency-Key": key}
    )
    assert (
        again.status_code == 201
        and again.json() == segment
        and again.headers["Location"] == created.headers["Location"]
    )
    reused = await api.post(
        "/api/v1/segmentation/segments", json={"name": tag + "-other", "rule": rule}, headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")
    assert (await api.post("/api/v1/segmentation/segments", json={"name": tag, "rule": rule})).status_code == 409
    added = await outbox_events(db, SegmentMemberAddedV1.event_type, members[4])
    assert [SegmentMemberAddedV1.model_validate(p).segment_id for _, p in added] == [uuid.UUID(segment["id"])]
    envelope_ok(added[0][0])

    # Paginated members.
    base = f"/api/v1/segmentation/segments/{segment['id']}/members"
    first = (await api.get(base, params={"limit": 2})).json()
    second = (await api.get(base, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    ids = [m["customer_id"] for m in first["items"] + second["items"]]
    assert ids == sorted(str(c) for c in members[2:]) and second["next_cursor"] is None
    assert (await api.get(base, params={"cursor": "garbage"})).status_code == 400

    # An event moves a customer in; another moves one out — each with its event.
    await publish(order_event(members[0], gross="50.00", placed_at=NOW - timedelta(days=1)))
    await publish(
        order_event(
            members[4],
            order_id=orders[4],
            model=OrderCancelledV1,
            status="cancelled",
            gross="104.00",
            placed_at=NOW - timedelta(days=2),
            occurred_at=NOW + timedelta(seconds=1),
            cancelled_from="placed",
            refund_amount="0",
        )
    )
    await applied(api, members[0], 2)

    async def membership():
        page = (await api.get(base, params={"limit": 10})).json()
        return {m["customer_id"] for m in page["items"]}

    await eventually(
        lambda: _eq(membership, {str(members[0]), str(members[2]), str(members[3])}), timeout=CONSUMED_WITHIN
    )
    left = await outbox_events(db, SegmentMemberRemovedV1.event_type, members[4])
    assert [SegmentMemberRemovedV1.model_validate(p).trigger for _, p in left] == ["event"]

    # CSV stream of everybody.
    response = await api.get(base, params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["customer_id"] for r in rows} == await membership()

    # Replace the rule (If-Match) and delete: leavers get removed events.
    etag = (await api.get(f"/api/v1/segmentation/segments/{segment['id']}")).headers["ETag"]
    narrower = {"and": [{"tag": tag}, {"field": "net_revenue", "op": "gte", "value": "150"}]}
    assert (
        await api.put(f"/api/v1/segmentation/segments/{segment['id']}", json={"name": tag, "rule": narrower})
    ).status_code == 428
    assert (
        await api.put(
            f"/api/v1/segmentation/segments/{segment['id']}",
            json={"name": tag, "rule": narrower},
            headers={"If-Match": '"99"'},
        )
    ).status_code == 412
    # RFC 9110 strong comparison: a weak tag never matches; a list matches when one of its tags does.
    assert (
        await api.put(
            f"/api/v1/segmentation/segments/{segment['id']}",
            json={"name": tag, "rule": narrower},
            headers={"If-Match": f"W/{etag}"},
        )
    ).status_code == 412
    replaced = await api.put(
        f"/api/v1/segmentation/segments/{segment['id']}",
        json={"name": tag, "rule": narrower},
        headers={"If-Match": f'"99", {etag}'},
    )
    assert replaced.status_code == 200 and replaced.json()["members"] == 1  # members[0]: 100 + 50
    assert replaced.json()["rule"] == narrower  # answered as saved
    removed = await outbox_events(db, SegmentMemberRemovedV1.event_type, members[2])
    assert [SegmentMemberRemovedV1.model_validate(p).trigger for _, p in removed] == ["segment_saved"]
    deleted = await api.delete(
        f"/api/v1/segmentation/segments/{segment['id']}", headers={"If-Match": replaced.headers["ETag"]}
    )
    assert deleted.status_code == 204
    assert (await api.get(base)).status_code == 404
    assert len(await outbox_events(db, SegmentMemberRemovedV1.event_type, members[0])) == 1


async def _eq(get, expected):
    return (await get()) == expected
