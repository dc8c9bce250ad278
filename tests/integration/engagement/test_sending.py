"""The engagement service against the real stack: triggers, consent, caps, quiet hours,
bounces and redelivery, with the mail read from the stack's SMTP sink.

Each test makes its own customers (fresh e-mail addresses), so the sink's other mail never
matches; ``open_policy`` sets no quiet hours and a cap of 2 e-mails per 7 days.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_devstack import Stack

from ...support import eventually, publish
from ...support_mail import mail_body, read_mail, wait_for_mail
from .conftest import put_policy
from .support import (
    birthday,
    customer,
    messages_of,
    redeliver,
    segment_member,
    template,
    trigger,
    wait_consent,
    wait_status,
)

CONSUMER = "engagement.triggers"


async def _offer_and_product(loyalty_api: httpx.AsyncClient, orders_api: httpx.AsyncClient) -> tuple[str, str]:
    offer = await loyalty_api.post(
        "/api/v1/loyalty/offers",
        json={"name": "Birthday 10 %", "discount_kind": "percentage", "discount_value": "10", "audience": "everyone"},
    )
    assert offer.status_code == 201, offer.text
    product = await orders_api.post(
        "/api/v1/products",
        json={
            "sku": "ENG-" + uuid.uuid4().hex[:10].upper(),
            "name": "Cake",
            "category": "food",
            "list_price": "50.00",
            "unit_cost": "10.00",
            "tax_rate": "0.23",
            "currency": "PLN",
        },
    )
    assert product.status_code == 201, product.text
    return offer.json()["id"], product.json()["id"]


async def test_the_birthday_trigger_sends_exactly_one_message_whose_coupon_checkout_accepts(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    loyalty_api: httpx.AsyncClient,
    orders_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
    open_policy: dict,
) -> None:
    offer_id, product_id = await _offer_and_product(loyalty_api, orders_api)
    wishes = await template(api, body="Happy birthday, {{ customer.given_name }}! Your gift: {{ coupon_code }}.")
    await trigger(api, wishes["id"], actions={"coupon_offer_id": offer_id})
    ada = await customer(customers_api)
    await wait_consent(api, ada["id"], True)

    occurrence = uuid.uuid4()
    first = birthday(ada["id"], important_date_id=occurrence)
    event = await publish(producer, first)
    await redeliver(producer, event, first)  # the broker delivers the same event again
    await publish(producer, birthday(ada["id"], important_date_id=occurrence))  # announced again (another day)

    mail = await wait_for_mail(stack.mail_dir, lambda m: m["To"] == ada["email"], timeout=90)
    match = re.search(r"Your gift: ([A-Z0-9-]+)\.", mail_body(mail))
    assert match, mail_body(mail)
    code = match.group(1)
    assert mail["Subject"] == "For you, Ada"

    # Every announcement has been applied; still one message and one mail.
    await eventually(lambda: _applied_count(db, ada["id"]), timeout=60)
    await asyncio.sleep(3)  # a second message would have been sent by now (the sender runs every second)
    assert len([m for m in read_mail(stack.mail_dir) if m["To"] == ada["email"]]) == 1
    (message,) = await messages_of(api, customer_id=ada["id"])
    assert message["status"] == "sent" and message["coupon_code"] == code

    # The coupon is the customer's own and checkout takes it (once the orders service has
    # projected the coupon from the loyalty service's CouponIssuedV1).
    async def checkout() -> dict | None:
        order = await orders_api.post(
            "/api/v1/orders",
            json={
                "customer_id": ada["id"],
                "channel": "web",
                "currency": "PLN",
                "lines": [{"product_id": product_id, "quantity": 1}],
                "coupon_code": code,
            },
        )
        if order.status_code == 422 and order.json().get("reason") == "unknown":
            return None
        assert order.status_code == 201, order.text
        return dict(order.json())

    order = await eventually(checkout, timeout=60, interval=1)
    assert order["coupon_code"] == code
    assert order["discount_amount"] not in (None, "0", "0.00")

    # The message is on the customer's timeline as an outbound e-mail.
    async def on_timeline() -> dict | None:
        listed = await customers_api.get(f"/api/v1/customers/{ada['id']}/interactions")
        items = [i for i in listed.json()["items"] if i["id"] == message["id"]] if listed.status_code == 200 else []
        return items[0] if items else None

    interaction = await eventually(on_timeline, timeout=60)
    assert interaction["channel"] == "email" and interaction["direction"] == "outbound"


async def _applied_count(db: asyncpg.Connection, customer_id: str) -> bool | None:
    count = await db.fetchval(
        "SELECT count(*) FROM inbox_events WHERE consumer = $1 AND event_type = $2 AND processed_at > now() - interval '5 minutes'",
        CONSUMER,
        "relacja.customers.important_date.upcoming.v1",
    )
    return True if count and count >= 2 else None


async def test_a_withdrawn_consent_stops_a_scheduled_message(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    open_policy: dict,
) -> None:
    wishes = await template(api)
    await trigger(api, wishes["id"], delay_seconds=25)
    ada = await customer(customers_api)
    await wait_consent(api, ada["id"], True)
    await publish(producer, birthday(ada["id"]))
    (scheduled,) = await wait_status(api, customer_id=ada["id"], status="scheduled")

    withdrawn = await customers_api.post(
        f"/api/v1/customers/{ada['id']}/consents",
        json={"purpose": "email_marketing", "status": "withdrawn", "source": "unsubscribe-link"},
    )
    assert withdrawn.status_code == 201, withdrawn.text
    await wait_consent(api, ada["id"], False)

    (suppressed,) = await wait_status(api, customer_id=ada["id"], status="suppressed", timeout=90)
    assert suppressed["id"] == scheduled["id"]
    assert suppressed["reason"] == "consent_withdrawn"
    assert not [m for m in read_mail(stack.mail_dir) if m["To"] == ada["email"]]


async def test_the_cap_holds_across_two_triggers_and_a_campaign(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
    open_policy: dict,
) -> None:
    wishes = await template(api)
    first, second = await trigger(api, wishes["id"]), await trigger(api, wishes["id"])
    ada = await customer(customers_api)
    await wait_consent(api, ada["id"], True)
    segment = uuid.uuid4()
    member = await publish(producer, segment_member(ada["id"], segment))
    await eventually(lambda: _applied(db, member.id))

    await publish(producer, birthday(ada["id"]))
    await wait_status(api, count=2, customer_id=ada["id"], status="sent")
    campaign = await api.post(
        "/api/v1/engagement/campaigns",
        json={"name": "December", "segment_id": str(segment), "template_id": wishes["id"], "holdout_percent": "0"},
    )
    assert campaign.status_code == 201, campaign.text
    (capped,) = await wait_status(api, customer_id=ada["id"], status="suppressed")
    assert capped["campaign_id"] == campaign.json()["id"] and capped["reason"] == "frequency_cap"
    sent = await messages_of(api, customer_id=ada["id"], status="sent")
    assert {m["trigger_id"] for m in sent} == {first["id"], second["id"]}
    assert len([m for m in read_mail(stack.mail_dir) if m["To"] == ada["email"]]) == 2


async def _applied(db: asyncpg.Connection, event_id: str) -> bool | None:
    found = await db.fetchval("SELECT 1 FROM inbox_events WHERE consumer = $1 AND event_id = $2", CONSUMER, event_id)
    return True if found else None


async def test_quiet_hours_defer_the_message_and_it_goes_out_after_them(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    open_policy: dict,
) -> None:
    # The customer has no address: quiet hours are in the service's default zone (Europe/Warsaw).
    local = datetime.now(ZoneInfo("Europe/Warsaw"))
    end = (local + timedelta(seconds=20)).replace(microsecond=0)
    await put_policy(
        api,
        {
            "quiet_hours": {
                "start": (local - timedelta(minutes=5)).strftime("%H:%M:%S"),
                "end": end.strftime("%H:%M:%S"),
            },
            "caps": open_policy["caps"],
        },
    )
    wishes = await template(api)
    await trigger(api, wishes["id"])
    ada = await customer(customers_api)
    await wait_consent(api, ada["id"], True)
    await publish(producer, birthday(ada["id"]))

    (deferred,) = await wait_status(api, customer_id=ada["id"], status="deferred", timeout=60)
    assert deferred["reason"] == "quiet_hours"
    assert datetime.fromisoformat(deferred["due_at"]) == end.astimezone(UTC)
    assert not [m for m in read_mail(stack.mail_dir) if m["To"] == ada["email"]]

    mail = await wait_for_mail(stack.mail_dir, lambda m: m["To"] == ada["email"], timeout=90)
    assert mail["Subject"] == "For you, Ada"
    (sent,) = await messages_of(api, customer_id=ada["id"], status="sent")
    assert datetime.fromisoformat(sent["sent_at"]) >= end.astimezone(UTC)


async def test_a_bounce_suppresses_the_address(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    open_policy: dict,
) -> None:
    wishes = await template(api)
    await trigger(api, wishes["id"], conditions={})  # every important date
    ada = await customer(customers_api)
    await wait_consent(api, ada["id"], True)
    await publish(producer, birthday(ada["id"]))
    (sent,) = await wait_status(api, customer_id=ada["id"], status="sent")

    reported = await api.post(
        "/api/v1/engagement/delivery-reports",
        json={"message_id": sent["id"], "kind": "hard_bounce", "detail": "550 no such user"},
    )
    assert reported.status_code == 200, reported.text
    assert reported.json() == {"message_id": sent["id"], "status": "bounced", "suppressed_address": True}
    listed = await api.get("/api/v1/engagement/suppressions", params={"channel": "email", "limit": 500})
    assert any(s["address"] == ada["email"] and s["reason"] == "hard_bounce" for s in listed.json()["items"])

    await publish(producer, birthday(ada["id"], year=2027))  # the next occurrence
    (suppressed,) = await wait_status(api, customer_id=ada["id"], status="suppressed")
    assert suppressed["reason"] == "suppressed_address"
    assert len([m for m in read_mail(stack.mail_dir) if m["To"] == ada["email"]]) == 1
    part = await api.get(f"/api/v1/engagement/customers/{ada['id']}")
    assert part.json()["suppressed_channels"] == ["email"]
    assert part.json()["messages_by_status"] == {"bounced": 1, "suppressed": 1}
