"""The review story end to end, through the gateway and the local SMTP sink.

An order is placed, paid, fulfilled and delivered through the gateway; the ready-made
"review request after delivery" trigger (enabled here with a short delay) sends the
customer an e-mail through the stack's real SMTP sink; the test reads that mail from the
sink's folder, follows its link without any login, rates the product, a moderator approves
the review, and the product's reviews and rating summary show it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from relacja_devstack import Stack

from ..support import eventually
from ..support_mail import mail_body, wait_for_mail

SCOPES = ["customers:read", "customers:write", "orders:read", "orders:write", "engagement:read", "engagement:write"]
LINK = re.compile(r"(https?://\S+?)(/api/v1/engagement/review-requests/[A-Za-z0-9_-]+)")


@pytest.fixture
async def staff(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def customer_browser(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The customer's side: no token at all, only the link from the mail."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def ready_made(staff: httpx.AsyncClient, key: str) -> dict:
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = await staff.get("/api/v1/engagement/triggers", params=params)
        assert page.status_code == 200, page.text
        for trigger in page.json()["items"]:
            if trigger["ready_made"] == key:
                return trigger
        cursor = page.json()["next_cursor"]
        assert cursor, f"no ready-made trigger {key!r}"


@pytest.fixture
async def review_trigger(staff: httpx.AsyncClient) -> AsyncIterator[dict]:
    """The ready-made review trigger with a template of its own and a 2 s delay, enabled while
    the test runs and put back as it was after (other tests deliver orders too)."""
    template = await staff.post(
        "/api/v1/engagement/templates",
        json={
            "name": "review-" + uuid.uuid4().hex[:8],
            "channel": "email",
            # A review request of an order just delivered is service mail: no marketing consent,
            # caps or quiet hours hold it (docs/engagement.md), so the test runs at any hour.
            "purpose": "transactional",
            "fallback_language": "en",
            "variants": [
                {
                    "language": "en",
                    "subject": "How was order {{ event.order_number }}, {{ customer.given_name }}?",
                    "body": "Rate what you bought: {{ review_url }}\n",
                }
            ],
        },
    )
    assert template.status_code == 201, template.text
    before = await ready_made(staff, "review_request")
    body = {
        "name": before["name"],
        "event": before["event"],
        "conditions": before["conditions"],
        "delay_seconds": 2,
        "channel": "email",
        "template_id": template.json()["id"],
        "actions": {**before["actions"], "request_review": True},
        "holdout_percent": "0",
        "enabled": True,
    }
    url = f"/api/v1/engagement/triggers/{before['id']}"
    current = await staff.get(url)
    changed = await staff.put(url, json=body, headers={"If-Match": current.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    try:
        yield changed.json()
    finally:
        # Put it back as it was; a ready-made trigger that had no template keeps the test's
        # (a trigger cannot be saved without one), disabled as before.
        latest = await staff.get(url)
        restore = {k: before[k] for k in ("name", "event", "conditions", "delay_seconds", "channel", "actions")}
        restore |= {"holdout_percent": before["holdout_percent"], "enabled": before["enabled"]}
        restore["template_id"] = before["template_id"] or template.json()["id"]
        put_back = await staff.put(url, json=restore, headers={"If-Match": latest.headers["ETag"]})
        assert put_back.status_code == 200, put_back.text


async def delivered_order(staff: httpx.AsyncClient, email: str) -> tuple[str, str, str]:
    """(customer id, product id, order number) of an order delivered through the gateway."""
    created = await staff.post(
        "/api/v1/customers",
        json={"kind": "person", "given_name": "Rena", "family_name": "Recenzja", "email": email},
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    sku = "REV-" + uuid.uuid4().hex[:8].upper()
    product = await staff.post(
        "/api/v1/products",
        json={
            "sku": sku,
            "name": "Kubek",
            "category": "kitchen",
            "list_price": "30.00",
            "tax_rate": "0.23",
            "currency": "PLN",
        },
    )
    assert product.status_code == 201, product.text

    async def known_to_orders() -> bool:
        return (await staff.get(f"/api/v1/orders/customers/{customer_id}/summary")).status_code == 200

    await eventually(known_to_orders)
    order = await staff.post(
        "/api/v1/orders",
        json={"customer_id": customer_id, "channel": "web", "currency": "PLN", "lines": [{"sku": sku, "quantity": 1}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.text
    for step in ("pay", "fulfill", "deliver"):
        moved = await staff.post(f"/api/v1/orders/{order.json()['id']}/{step}")
        assert moved.status_code == 200, moved.text
    return customer_id, product.json()["id"], order.json()["number"]


async def test_delivered_order_review_request_by_mail_submitted_moderated_and_readable(
    stack: Stack, staff: httpx.AsyncClient, customer_browser: httpx.AsyncClient, review_trigger: dict
) -> None:
    email = f"rena-{uuid.uuid4().hex[:12]}@example.com"
    customer_id, product_id, order_number = await delivered_order(staff, email)

    def to_this_customer(message: EmailMessage) -> bool:
        return email in str(message["To"])

    mail = await wait_for_mail(stack.mail_dir, to_this_customer, timeout=180)
    assert order_number in str(mail["Subject"]) and "Rena" in str(mail["Subject"])
    found = LINK.search(mail_body(mail))
    assert found, mail_body(mail)
    assert found.group(1) == stack.gateway_url  # the link leads to this stack's gateway
    link = found.group(0)

    # The customer follows the link: no login. The delivery reaches the reviews' projection
    # on its own consumer, so the product may take a moment to be listed.
    async def listed() -> dict | None:
        shown = await customer_browser.get(link)
        assert shown.status_code == 200, shown.text
        return shown.json() if shown.json()["products"] else None

    request = await eventually(listed)
    assert [p["product_id"] for p in request["products"]] == [product_id] and request["answerable"]
    bad = await customer_browser.post(f"{link}/reviews", json={"product_id": product_id, "rating": 0})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["body.rating"]
    submitted = await customer_browser.post(
        f"{link}/reviews",
        json={"product_id": product_id, "rating": 5, "comment": "Keeps tea hot", "reviewer_name": "Rena"},
    )
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert review["status"] == "pending"
    reused = await customer_browser.post(f"{link}/reviews", json={"product_id": product_id, "rating": 1})
    assert reused.status_code == 410 and reused.json()["type"].endswith("review-request-used")
    # The link opens nothing else: the staff routes still need a token.
    assert (await customer_browser.get(f"{stack.gateway_url}/api/v1/engagement/reviews")).status_code == 401

    # Moderation through the gateway, then the public reads.
    queue = await staff.get("/api/v1/engagement/reviews", params={"status": "pending", "customer_id": customer_id})
    assert [r["id"] for r in queue.json()["items"]] == [review["id"]]
    assert queue.json()["items"][0]["verified_purchase"] is True
    approved = await staff.post(f"/api/v1/engagement/reviews/{review['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text

    reviews = await staff.get(f"/api/v1/engagement/products/{product_id}/reviews")
    assert [(r["id"], r["rating"], r["comment"], r["reviewer_name"]) for r in reviews.json()["items"]] == [
        (review["id"], 5, "Keeps tea hot", "Rena")
    ]
    summary = (await staff.get(f"/api/v1/engagement/products/{product_id}/rating-summary")).json()
    assert (summary["review_count"], summary["average_rating"]) == (1, "5.00")
    assert summary["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}

    # The engagement service logged the message it sent for this order (its state is
    # committed just after the SMTP server took the mail).
    async def logged() -> list | None:
        items = (await staff.get("/api/v1/engagement/messages", params={"customer_id": customer_id})).json()["items"]
        return items if items and items[0]["status"] == "sent" else None

    assert [(m["status"], m["trigger_id"]) for m in await eventually(logged)] == [("sent", review_trigger["id"])]
