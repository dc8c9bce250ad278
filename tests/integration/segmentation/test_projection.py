"""The projection built from real events on the real broker: orders (same-day purchases,
returns, cancellations, out-of-order snapshots), tickets, surveys, consents, merges and
erasure — asserted through the service's HTTP API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderReturnedV1,
    SurveyAnsweredV1,
    TicketOpenedV1,
)

from ...support import applied, eventually
from .conftest import CONSUMED_WITHIN, order_event

NOW = datetime.now(UTC)


def registered(customer_id: uuid.UUID, tags: list[str] | None = None) -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=customer_id,
        kind="person",
        display_name="Test",
        lifecycle_stage="customer",
        registered_at=NOW - timedelta(days=400),
        tags=tags or [],
    )


async def profile_when(api, customer_id, condition):
    async def check():
        response = await api.get(f"/api/v1/segmentation/customers/{customer_id}")
        if response.status_code == 200 and condition(response.json()):
            return response.json()
        return None

    return await eventually(check, timeout=CONSUMED_WITHIN)


def ticket(customer_id: uuid.UUID, type_: str) -> TicketOpenedV1:
    return TicketOpenedV1(
        customer_id=customer_id,
        ticket_id=uuid.uuid4(),
        type=type_,
        channel="email",
        priority="normal",
        status="new",
        opened_at=NOW,
        occurred_at=NOW,
    )


async def test_orders_build_purchases_revenue_margin_and_dates(api, publish) -> None:
    customer = uuid.uuid4()
    day1 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    await publish(registered(customer, ["vip"]))
    # Two orders on the same day are one purchase; a third on another day is a second one.
    await publish(order_event(customer, placed_at=day1, gross="100.00", cost="60.00"))
    await publish(order_event(customer, placed_at=day1 + timedelta(hours=5), gross="50.00", cost="20.00"))
    await publish(order_event(customer, placed_at=day1 + timedelta(days=10), gross="30.00", cost=None))
    # An order in another currency stays out of the aggregates.
    await publish(order_event(customer, placed_at=day1, gross="999.00", currency="EUR"))
    # Registration and orders travel on different topics: wait for both to be applied.
    body = await profile_when(api, customer, lambda p: p["orders_count"] == 3 and p["kind"] == "person")
    assert body["purchases"] == 2
    assert body["net_revenue"] == {"amount": "180.0000", "currency": "PLN"}
    assert body["gross_revenue"]["amount"] == "180.0000"
    assert body["margin"]["amount"] == "70.0000"  # unknown cost adds no margin
    assert body["avg_order_value"]["amount"] == "60.0000"
    assert body["first_purchase_at"].startswith("2026-03-01T09:00")
    assert body["last_purchase_at"].startswith("2026-03-11")
    assert body["tags"] == ["vip"] and body["kind"] == "person"
    assert body["tenure_days"] >= body["recency_days"] > 0


async def test_an_update_moves_the_stage_and_tags_and_an_older_one_is_ignored(api, publish, db) -> None:
    customer = uuid.uuid4()
    await publish(registered(customer, ["new"]))

    def updated(version: int, stage: str, tags: list[str]) -> CustomerUpdatedV1:
        return CustomerUpdatedV1(
            customer_id=customer,
            changed_fields=["lifecycle_stage", "tags"],
            lifecycle_stage=stage,
            tags=tags,
            version=version,
            updated_at=NOW,
        )

    await publish(updated(3, "inactive", ["lapsed", "vip"]))
    older = await publish(updated(2, "customer", ["vip"]))  # delivered late: version 2 < 3
    await eventually(lambda: applied(db, "segmentation.projection", older.id), timeout=CONSUMED_WITHIN)
    body = (await api.get(f"/api/v1/segmentation/customers/{customer}")).json()
    assert (body["lifecycle_stage"], body["tags"]) == ("inactive", ["lapsed", "vip"])


async def test_returns_are_netted_and_cancellations_are_not_purchases(api, publish, db) -> None:
    customer = uuid.uuid4()
    kept, cancelled = uuid.uuid4(), uuid.uuid4()
    t0 = NOW - timedelta(days=5)
    await publish(order_event(customer, order_id=kept, gross="200.00", cost="100.00", occurred_at=t0))
    await publish(
        order_event(customer, order_id=cancelled, gross="80.00", occurred_at=t0, placed_at=NOW - timedelta(days=1))
    )
    await profile_when(api, customer, lambda p: p["orders_count"] == 2)
    await publish(
        order_event(
            customer,
            order_id=kept,
            model=OrderReturnedV1,
            status="delivered",
            gross="200.00",
            returned="50.00",
            cost="75.00",
            occurred_at=t0 + timedelta(days=2),
            return_id=uuid.uuid4(),
            returned_lines=[{"line_no": 1, "sku": "A", "quantity": 1, "amount": "50.00"}],
            refund_amount="61.50",
        )
    )
    await publish(
        order_event(
            customer,
            order_id=cancelled,
            model=OrderCancelledV1,
            status="cancelled",
            gross="80.00",
            occurred_at=t0 + timedelta(days=1),
            cancelled_from="placed",
            refund_amount="0",
        )
    )
    body = await profile_when(
        api, customer, lambda p: p["orders_count"] == 1 and p["net_revenue"]["amount"] == "150.0000"
    )
    assert body["purchases"] == 1
    assert body["margin"]["amount"] == "75.0000"
    # An older snapshot delivered late does not overwrite the newer one.
    late = await publish(
        order_event(
            customer,
            order_id=kept,
            model=OrderDeliveredV1,
            status="delivered",
            gross="200.00",
            occurred_at=t0 + timedelta(days=1),
        )
    )
    # Wait until the late snapshot itself was applied (an event on another topic proves nothing about it).
    await eventually(lambda: applied(db, "segmentation.projection", late.id), timeout=CONSUMED_WITHIN)
    body = (await api.get(f"/api/v1/segmentation/customers/{customer}")).json()
    assert body["net_revenue"]["amount"] == "150.0000"


async def test_tickets_complaints_surveys_and_consents(api, publish, db) -> None:
    customer = uuid.uuid4()
    await publish(ticket(customer, "complaint"))
    await publish(ticket(customer, "question"))
    await publish(
        SurveyAnsweredV1(
            customer_id=customer,
            survey_id=uuid.uuid4(),
            kind="nps",
            score=4,
            issued_at=NOW - timedelta(days=2),
            answered_at=NOW - timedelta(days=2),
        )
    )
    csat = await publish(
        SurveyAnsweredV1(
            customer_id=customer, survey_id=uuid.uuid4(), kind="csat", score=5, issued_at=NOW, answered_at=NOW
        )
    )
    consent = uuid.uuid4()
    await publish(
        ConsentGrantedV1(
            customer_id=customer, consent_id=consent, purpose="email_marketing", source="web-form", occurred_at=NOW
        )
    )
    await publish(
        ConsentGrantedV1(
            customer_id=customer, consent_id=uuid.uuid4(), purpose="sms_marketing", source="web-form", occurred_at=NOW
        )
    )
    await publish(
        ConsentWithdrawnV1(
            customer_id=customer,
            consent_id=consent,
            purpose="email_marketing",
            source="web-form",
            occurred_at=NOW + timedelta(seconds=1),
        )
    )
    # The surveys follow the tickets on their partition: the ticket count does not prove they were applied.
    await eventually(lambda: applied(db, "segmentation.projection", csat.id), timeout=CONSUMED_WITHIN)
    body = await profile_when(api, customer, lambda p: p["tickets"] == 2 and p["consents"] == ["sms_marketing"])
    assert body["complaints"] == 1
    assert (body["satisfaction_kind"], body["satisfaction_score"]) == ("csat", 5)


async def test_a_merge_combines_both_customers_and_later_events_follow_it(api, publish, db) -> None:
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    await publish(registered(survivor, ["a"]))
    await publish(registered(merged, ["b"]))
    await publish(order_event(survivor, gross="10.00", placed_at=NOW - timedelta(days=30)))
    await publish(order_event(merged, gross="20.00", placed_at=NOW - timedelta(days=20)))
    await publish(ticket(merged, "complaint"))
    # Customers, orders and tickets are three topics: wait until each has been applied.
    await profile_when(api, merged, lambda p: p["complaints"] == 1 and p["orders_count"] == 1 and p["tags"] == ["b"])
    await profile_when(api, survivor, lambda p: p["orders_count"] == 1 and p["tags"] == ["a"])
    await publish(CustomersMergedV1(customer_id=survivor, merged_customer_id=merged, merged_at=NOW))
    body = await profile_when(api, survivor, lambda p: p["orders_count"] == 2)
    assert body["net_revenue"]["amount"] == "30.0000"
    assert body["purchases"] == 2 and body["complaints"] == 1
    assert body["tags"] == ["a", "b"]
    gone = await api.get(f"/api/v1/segmentation/customers/{merged}")
    assert gone.status_code == 404 and gone.json()["merged_into"] == str(survivor)
    # An order of the merged id published after the merge lands on the survivor.
    await publish(order_event(merged, gross="5.00", placed_at=NOW - timedelta(days=1)))
    body = await profile_when(api, survivor, lambda p: p["orders_count"] == 3)
    assert body["net_revenue"]["amount"] == "35.0000"
    assert await db.fetchval("SELECT count(*) FROM customer_profiles WHERE customer_id = $1", merged) == 0


async def test_erasure_drops_personal_data_and_keeps_aggregates(api, publish, db) -> None:
    customer = uuid.uuid4()
    await publish(registered(customer, ["likes-cats"]))
    await publish(
        ConsentGrantedV1(
            customer_id=customer, consent_id=uuid.uuid4(), purpose="profiling", source="web-form", occurred_at=NOW
        )
    )
    await publish(order_event(customer, gross="42.00"))
    await profile_when(
        api,
        customer,
        lambda p: p["orders_count"] == 1 and p["consents"] == ["profiling"] and p["tags"] == ["likes-cats"],
    )
    await publish(CustomerErasedV1(customer_id=customer, erased_at=NOW))
    body = await profile_when(api, customer, lambda p: p["erased"])
    assert body["tags"] == [] and body["consents"] == []
    assert body["net_revenue"]["amount"] == "42.0000"
    assert await db.fetchval("SELECT count(*) FROM seg_consents WHERE customer_id = $1", customer) == 0
