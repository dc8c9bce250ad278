"""Webhooks in the sharing service, against the test stack (real PostgreSQL and broker) and a
real receiver on loopback: feed records reach an agreement's endpoints signed (verified with
``standardwebhooks``) with only the allowed fields, each delivery is in the disclosure log
(channel webhook); the delivery log and redelivery; secret rotation; a consent withdrawal
cancels what is queued and sends a tombstone; a 410 disables the endpoint and emits
WebhookEndpointDisabledV1; SSRF refusals name the rule; a partner sees only its own endpoints."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from standardwebhooks.webhooks import Webhook

from relacja_contracts.events import ConsentGrantedV1, ConsentWithdrawnV1, SegmentMemberAddedV1

from ...support import applied, eventually, publish
from ...webhook_receiver import WebhookReceiver
from .conftest import SHARED_TYPE, new_agreement, partner_headers

FANOUT = "sharing.fanout"  # the sharing service's consumer (its inbox name)


def member_added(customer_id: uuid.UUID, name: str = "VIP") -> SegmentMemberAddedV1:
    return SegmentMemberAddedV1(
        customer_id=customer_id,
        segment_id=uuid.uuid4(),
        segment_name=name,
        trigger="recomputation",
        occurred_at=datetime.now(UTC),
    )


def consent(model: type[ConsentGrantedV1] | type[ConsentWithdrawnV1], customer_id, partner_id, consent_id):
    return model(
        customer_id=customer_id,
        consent_id=consent_id,
        purpose="partner_sharing",
        partner_id=str(partner_id),
        partner_purpose="delivery",
        source="web-form",
        occurred_at=datetime.now(UTC),
    )


async def received(receiver: WebhookReceiver, path: str, n: int) -> list | None:
    got = receiver.received(path)
    return got if len(got) >= n else None


async def test_records_are_pushed_signed_filtered_logged_and_disclosed(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer, receiver: WebhookReceiver
) -> None:
    agreement = await new_agreement(api)
    created = await api.post(
        agreement.partner_endpoints,
        json={"url": receiver.url("/partner-hook"), "description": "orders desk"},
        headers=agreement.partner_headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert (endpoint["status"], endpoint["agreement_id"]) == ("enabled", str(agreement.agreement_id))
    shown = await api.get(f"{agreement.partner_endpoints}/{endpoint['id']}", headers=agreement.partner_headers)
    assert shown.status_code == 200 and "secret" not in shown.json()

    customer_id = uuid.uuid4()
    event = await publish(producer, member_added(customer_id))

    (got,) = await eventually(lambda: received(receiver, "/partner-hook", 1), timeout=60)
    body = Webhook(secret).verify(got.body, got.headers)
    assert body["type"] == SHARED_TYPE
    assert body["data"] == {"segment_name": "VIP"}  # only the allowed field
    assert body["subject"] != str(customer_id)  # a pseudonym, not the customer id
    assert str(customer_id) not in got.body.decode()
    assert body["id"] != str(event.id)

    async def disclosed() -> list | None:
        rows = await db.fetch(
            "SELECT channel, partner_id, fields FROM sharing_disclosures WHERE customer_id = $1", customer_id
        )
        return rows if any(r["channel"] == "webhook" for r in rows) else None

    (row,) = await eventually(disclosed, timeout=30)
    assert row["partner_id"] == agreement.partner_id
    assert json.loads(row["fields"]) == ["segment_name"]
    listed = (await api.get(f"/api/v1/customers/{customer_id}/disclosures")).json()["items"]
    assert [(d["channel"], d["partner_id"]) for d in listed] == [("webhook", str(agreement.partner_id))]

    messages = await api.get(
        f"{agreement.partner_endpoints}/{endpoint['id']}/messages", headers=agreement.partner_headers
    )
    (message,) = messages.json()["items"]
    assert message["message_id"] == got.headers["webhook-id"]
    assert (message["status"], message["kind"], message["record_id"]) == ("succeeded", "record", body["id"])
    attempts = await api.get(
        f"{agreement.staff_endpoints}/{endpoint['id']}/attempts", params={"message_id": message["message_id"]}
    )
    (attempt,) = attempts.json()["items"]
    assert (attempt["outcome"], attempt["status_code"], attempt["response_excerpt"]) == ("succeeded", 200, "ok")

    again = await api.post(
        f"{agreement.partner_endpoints}/{endpoint['id']}/messages/{message['message_id']}/redeliver",
        headers=agreement.partner_headers,
    )
    assert again.status_code == 202, again.text
    await eventually(lambda: received(receiver, "/partner-hook", 2), timeout=30)
    await eventually(lambda: _message_finished(api, agreement, endpoint["id"]), timeout=30)
    since = await api.post(
        f"{agreement.staff_endpoints}/{endpoint['id']}/redeliver",
        json={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    )
    assert (since.status_code, since.json()) == (202, {"queued": 1})
    third = await eventually(lambda: received(receiver, "/partner-hook", 3), timeout=30)
    assert {g.headers["webhook-id"] for g in third} == {message["message_id"]}
    for g in third:
        Webhook(secret).verify(g.body, g.headers)


async def _message_finished(api: httpx.AsyncClient, agreement, endpoint_id: str) -> bool:
    items = (await api.get(f"{agreement.staff_endpoints}/{endpoint_id}/messages")).json()["items"]
    return all(m["status"] == "succeeded" for m in items)


async def test_a_rotated_secret_signs_beside_the_new_one(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, receiver: WebhookReceiver
) -> None:
    agreement = await new_agreement(api)
    created = await api.post(agreement.staff_endpoints, json={"url": receiver.url("/rotating")})
    old, endpoint_id = created.json()["secret"], created.json()["id"]
    stale = await api.post(f"{agreement.staff_endpoints}/{endpoint_id}/rotate-secret", headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    rotated = await api.post(
        f"{agreement.staff_endpoints}/{endpoint_id}/rotate-secret", headers={"If-Match": created.headers["ETag"]}
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    await publish(producer, member_added(uuid.uuid4()))
    (got,) = await eventually(lambda: received(receiver, "/rotating", 1), timeout=60)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)


async def test_a_consent_withdrawal_cancels_what_is_queued_and_sends_a_tombstone(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer, receiver: WebhookReceiver
) -> None:
    agreement = await new_agreement(api, legal_basis="consent")
    # The record fails (retried in 5 s, then 5 min): it is still queued when consent goes.
    receiver.script("/consent", [(500, {}, b"")] * 3, body_contains=SHARED_TYPE.encode())
    created = await api.post(agreement.staff_endpoints, json={"url": receiver.url("/consent")})
    secret, endpoint_id = created.json()["secret"], created.json()["id"]
    customer_id, consent_id = uuid.uuid4(), uuid.uuid4()
    # Consents and segment events travel on different topics: each waits until the one before
    # is applied, as the order matters here.
    granted = await publish(producer, consent(ConsentGrantedV1, customer_id, agreement.partner_id, consent_id))
    await eventually(lambda: applied(db, FANOUT, str(granted.id)), timeout=60)
    await publish(producer, member_added(customer_id))
    await eventually(lambda: received(receiver, "/consent", 1), timeout=60)

    withdrawn = await publish(producer, consent(ConsentWithdrawnV1, customer_id, agreement.partner_id, consent_id))
    await eventually(lambda: applied(db, FANOUT, str(withdrawn.id)), timeout=60)
    await publish(producer, member_added(customer_id, "After withdrawal"))

    async def tombstone() -> list | None:
        got = [Webhook(secret).verify(g.body, g.headers) for g in receiver.received("/consent")]
        return got if any(b["type"] == "relacja.sharing.consent.withdrawn.v1" for b in got) else None

    bodies = await eventually(tombstone, timeout=60)
    await asyncio.sleep(1)
    bodies = [Webhook(secret).verify(g.body, g.headers) for g in receiver.received("/consent")]
    assert all(b["data"].get("segment_name") != "After withdrawal" for b in bodies)
    assert [b["type"] for b in bodies].count("relacja.sharing.consent.withdrawn.v1") == 1
    rows = await db.fetch(
        "SELECT m.meta ->> 'kind' AS kind, m.status FROM sharing_webhook_messages m WHERE m.endpoint_id = $1",
        uuid.UUID(endpoint_id),
    )
    statuses = {row["kind"]: row["status"] for row in rows}
    assert statuses == {"record": "cancelled", "tombstone": "succeeded"}


async def test_410_disables_the_endpoint_and_an_event_says_so(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer, receiver: WebhookReceiver
) -> None:
    agreement = await new_agreement(api)
    receiver.script("/gone", [(410, {}, b"")])
    created = await api.post(agreement.staff_endpoints, json={"url": receiver.url("/gone")})
    endpoint_id = created.json()["id"]
    await publish(producer, member_added(uuid.uuid4()))

    async def disabled() -> dict | None:
        shown = (await api.get(f"{agreement.staff_endpoints}/{endpoint_id}")).json()
        return shown if shown["status"] == "disabled" else None

    shown = await eventually(disabled, timeout=60)
    assert shown["disabled_reason"] == "gone"
    payload = await db.fetchval(
        "SELECT payload FROM outbox_events WHERE event_type = $1 AND payload ->> 'endpoint_id' = $2",
        "relacja.sharing.webhook_endpoint.disabled.v1",
        endpoint_id,
    )
    assert json.loads(payload)["reason"] == "gone"
    assert json.loads(payload)["agreement_id"] == str(agreement.agreement_id)

    again = await api.post(
        f"{agreement.staff_endpoints}/{endpoint_id}/disable", headers={"If-Match": f'"{shown["version"]}"'}
    )
    assert again.status_code == 409
    assert (again.json()["current_status"], again.json()["allowed_actions"]) == ("disabled", ["enable"])
    enabled = await api.post(
        f"{agreement.staff_endpoints}/{endpoint_id}/enable", headers={"If-Match": f'"{shown["version"]}"'}
    )
    assert enabled.status_code == 200 and enabled.json()["status"] == "enabled"


async def test_urls_the_ssrf_guard_refuses_name_the_rule(api: httpx.AsyncClient) -> None:
    agreement = await new_agreement(api)
    for url, rule in (
        ("https://10.0.0.1/hook", "private_address"),
        ("https://169.254.169.254/latest/meta-data/", "metadata_address"),
        ("https://[fe80::1]/hook", "link_local_address"),
        ("https://100.64.0.9/hook", "shared_address"),
        ("https://user:pw@example.com/hook", "userinfo_not_allowed"),
    ):
        refused = await api.post(agreement.staff_endpoints, json={"url": url})
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["rule"] == rule
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = await api.post(
        agreement.staff_endpoints, json={"url": "https://partner.example/hook", "event_types": ["relacja.orders.x.v1"]}
    )
    assert (unknown.status_code, unknown.json()["rule"]) == (422, "event_type_not_shared")


async def test_a_partner_sees_only_its_own_endpoints(api: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    mine, theirs = await new_agreement(api), await new_agreement(api)
    endpoint_id = (
        await api.post(mine.partner_endpoints, json={"url": receiver.url("/a")}, headers=mine.partner_headers)
    ).json()["id"]
    other = partner_headers(theirs.partner_id)
    base = mine.partner_endpoints
    for method, path, body in (
        ("GET", base, None),
        ("POST", base, {"url": receiver.url("/b")}),
        ("GET", f"{base}/{endpoint_id}", None),
        ("PATCH", f"{base}/{endpoint_id}", {"description": "x"}),
        ("DELETE", f"{base}/{endpoint_id}", None),
        ("POST", f"{base}/{endpoint_id}/disable", None),
        ("POST", f"{base}/{endpoint_id}/rotate-secret", None),
        ("GET", f"{base}/{endpoint_id}/messages", None),
        ("GET", f"{base}/{endpoint_id}/attempts", None),
        ("POST", f"{base}/{endpoint_id}/redeliver", {"since": "2026-01-01T00:00:00Z"}),
        ("POST", f"{base}/{endpoint_id}/messages/msg_{uuid.uuid4().hex}/redeliver", None),
        # Their own agreement, my endpoint: still not found.
        ("GET", f"{theirs.partner_endpoints}/{endpoint_id}", None),
    ):
        answer = await api.request(method, path, json=body, headers=other | {"If-Match": '"1"'})
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await api.get(base)).status_code == 401  # no partner headers on the partner face
