"""Partner A can never read, change or learn of anything of partner B (OWASP API1), and
credentials and states are enforced on the next request — through the gateway.

The matrix walks every operation of /partner/openapi.json (so a new /partner/v1 route is
covered, or fails here until this test knows how to name B's object for it): each path
parameter gets B's object of that kind — B's agreement, B's webhook endpoint, a message
delivered to it — and the call under A's key, reads and writes alike (with a valid body and
If-Match, so that only ownership can refuse it), is 404 like an object that does not
exist, while B itself reads it. Operations without an id in the path are lists of A's own:
they answer 200 and never mention B's ids; one that takes B's object in its body answers
exactly as for an object that does not exist. A path parameter or a body this test does
not know is a failure that says what to add.

Then: a revoked or an unknown key is 401 on the next request; a suspended partner, or a
suspended agreement, is 403 with a problem naming the state; a terminated agreement's
feed is 410; with the sharing service down, a key cannot be checked: 503 with Retry-After.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from relacja_devstack import Stack

from ..support import eventually
from ..webhook_receiver import WebhookReceiver
from .gateway_support import closed_port, inprocess_gateway

STAFF_SCOPES = ["sharing:read", "sharing:admin", "customers:write"]
PLACED = "relacja.orders.order.placed.v1"
REGISTERED = "relacja.customers.customer.registered.v1"
LEAD_CONTRIBUTED = "relacja.sharing.lead.contributed.v1"  # what an inbound agreement lets a partner send
AGREEMENT_ACTIVE_VERSION = 2  # created (1), activated (2)
_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass
class Partner:
    id: str
    agreement_id: str
    agreement_version: int
    key_id: str
    api_key: str
    objects: dict[str, str] = field(default_factory=dict)  # path parameter name → one of its objects


@pytest.fixture
async def staff(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(STAFF_SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def anonymous(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


async def new_agreement(
    staff: httpx.AsyncClient, partner_id: str, name: str, allowed_fields: dict[str, list[str]]
) -> str:
    """An active contract-basis agreement in both directions; its id (version 2 once active)."""
    agreement = created(
        await staff.post(
            "/api/v1/sharing/agreements",
            json={
                "partner_id": partner_id,
                "name": name,
                "purposes": ["delivery"],
                "direction": "both",
                "legal_basis": "contract",
                "allowed_fields": allowed_fields,
            },
        )
    )
    activated = await staff.post(
        f"/api/v1/sharing/agreements/{agreement['id']}/activate", headers={"If-Match": f'"{agreement["version"]}"'}
    )
    assert activated.status_code == 200, activated.text
    assert activated.json()["version"] == AGREEMENT_ACTIVE_VERSION
    return str(agreement["id"])


async def new_partner(staff: httpx.AsyncClient, name: str) -> Partner:
    partner = created(await staff.post("/api/v1/sharing/partners", json={"legal_name": name}))
    agreement_id = await new_agreement(
        staff, partner["id"], f"{name} orders", {PLACED: ["order_number"], REGISTERED: ["kind"]}
    )
    key = created(await staff.post(f"/api/v1/sharing/partners/{partner['id']}/keys", json={"label": "bola"}))
    return Partner(
        partner["id"],
        agreement_id,
        AGREEMENT_ACTIVE_VERSION,
        key["id"],
        key["api_key"],
        {"agreement_id": agreement_id, "dimension": "segment"},
    )


def as_partner(partner: Partner) -> dict[str, str]:
    return {"Authorization": f"Bearer {partner.api_key}"}


def problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(type_suffix), body
    return body


def b_value(name: str, b: Partner) -> str:
    """B's object for a path parameter — or a parameter that names no object of B's."""
    assert name in b.objects, (
        f"/partner/v1 has a path parameter {{{name}}} this test cannot fill: give partner B an object of that "
        "kind in test_every_partner_route_hides_b_from_a, so the route is walked with B's id"
    )
    return b.objects[name]


# A valid body for each operation that takes one, so that only ownership can refuse the call.
BODIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "POST /partner/v1/agreements/{agreement_id}/endpoints": lambda url: {"url": url},
    "PATCH /partner/v1/agreements/{agreement_id}/endpoints/{endpoint_id}": lambda url: {"description": "mine now"},
    "POST /partner/v1/agreements/{agreement_id}/endpoints/{endpoint_id}/redeliver": lambda url: {
        "since": datetime(2020, 1, 1, tzinfo=UTC).isoformat()
    },
    "POST /partner/v1/contributions": lambda url: {"type": "lead", "agreement_id": None, "name": "Prospekt A"},
}


def body_for(method: str, path: str, operation: dict[str, Any], url: str) -> dict[str, Any] | None:
    if "requestBody" not in operation:
        return None
    make = BODIES.get(f"{method} {path}")
    assert make is not None, f"{method} {path} takes a body: give it a valid one in BODIES"
    return make(url)


async def test_every_partner_route_hides_b_from_a(
    stack: Stack, staff: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    suffix = uuid.uuid4().hex[:8]
    a = await new_partner(staff, f"Partner A {suffix}")
    b = await new_partner(staff, f"Partner B {suffix}")
    async with WebhookReceiver() as receiver:
        await walk(staff, anonymous, a, b, receiver)


async def walk(
    staff: httpx.AsyncClient, anonymous: httpx.AsyncClient, a: Partner, b: Partner, receiver: WebhookReceiver
) -> None:
    # B's webhook endpoint, and a message delivered to it (a new customer is a record for B)
    endpoint = created(
        await anonymous.post(
            f"/partner/v1/agreements/{b.agreement_id}/endpoints",
            json={"url": receiver.url("/b")},
            headers=as_partner(b),
        )
    )
    b.objects["endpoint_id"] = endpoint["id"]
    created(await staff.post("/api/v1/customers", json={"kind": "company", "display_name": f"Firma {a.id[:8]}"}))
    messages_url = f"/partner/v1/agreements/{b.agreement_id}/endpoints/{endpoint['id']}/messages"

    async def delivered() -> str | None:
        items = (await anonymous.get(messages_url, headers=as_partner(b))).json()["items"]
        return next((item["message_id"] for item in items if item["status"] == "succeeded"), None)

    b.objects["message_id"] = await eventually(delivered, timeout=60)
    document = (await anonymous.get("/partner/openapi.json", params={"refresh": "true"})).json()
    assert document["info"]["x-missing-services"] == []
    if "/partner/v1/contributions" in document["paths"]:  # inbound contributions: a lead of B's
        inbound = await new_agreement(staff, b.id, "B leads", {LEAD_CONTRIBUTED: []})
        lead = created(
            await anonymous.post(
                "/partner/v1/contributions",
                json={"type": "lead", "agreement_id": inbound, "name": "Prospekt B"},
                headers=as_partner(b) | {"Idempotency-Key": uuid.uuid4().hex},
            )
        )
        b.objects["contribution_id"] = lead["id"]
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 4, operations
    walked = []
    # If-Match of the version B's objects are at; Idempotency-Key fresh each time
    write_headers = {"If-Match": '"1"'}
    for method, path, operation in operations:
        body = body_for(method, path, operation, receiver.url("/a"))
        if _PARAMETER.search(path):
            url = _PARAMETER.sub(lambda m: b_value(m.group(1), b), path)
            headers = as_partner(a) | write_headers | {"Idempotency-Key": uuid.uuid4().hex}
            response = await anonymous.request(method, url, headers=headers, json=body)
            problem(response, 404, "not-found")
            # ... and B itself reads the same object, so the 404 is about who asks.
            if method == "GET":
                own = await anonymous.get(url, headers=as_partner(b))
                assert own.status_code == 200, (path, own.text)
        elif method == "GET":
            response = await anonymous.get(path, headers=as_partner(a))
            assert response.status_code == 200, (path, response.text)
            for b_id in {b.id, *b.objects.values()} - {"segment"}:
                assert b_id not in response.text, (path, "mentions B's", b_id)
        else:
            # B's object in the body: the same answer as for an object that does not exist
            assert body is not None and "agreement_id" in body, f"{method} {path}: which of B's objects is in the body?"
            headers = as_partner(a) | {"Idempotency-Key": uuid.uuid4().hex}
            with_b = await anonymous.request(
                method, path, headers=headers, json=body | {"agreement_id": b.agreement_id}
            )
            headers = as_partner(a) | {"Idempotency-Key": uuid.uuid4().hex}
            nobody = await anonymous.request(
                method, path, headers=headers, json=body | {"agreement_id": str(uuid.uuid4())}
            )
            assert 400 <= with_b.status_code < 500 and with_b.status_code == nobody.status_code, (path, with_b.text)
            assert with_b.json()["type"] == nobody.json()["type"] and b.agreement_id not in with_b.text
        walked.append(f"{method} {path}")
    assert "GET /partner/v1/feeds/{agreement_id}/events" in walked
    # B's endpoint is as B left it: none of A's writes reached it
    after = await anonymous.get(
        f"/partner/v1/agreements/{b.agreement_id}/endpoints/{endpoint['id']}", headers=as_partner(b)
    )
    assert after.status_code == 200 and after.json()["url"] == receiver.url("/b")
    assert after.json()["description"] != "mine now" and after.json()["status"] == "enabled"


async def test_keys_and_states_are_enforced_on_the_next_request(
    stack: Stack, staff: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    suffix = uuid.uuid4().hex[:8]
    a = await new_partner(staff, f"Partner C {suffix}")
    feed_url = f"/partner/v1/feeds/{a.agreement_id}/events"
    assert (await anonymous.get(feed_url, headers=as_partner(a))).status_code == 200

    # an unknown key, a malformed one, and one that was revoked a moment ago: 401
    lookup, _, secret = a.api_key.removeprefix("rpk_").partition("_")
    unknown = f"rpk_{lookup}_{secret[::-1]}"
    problem(await anonymous.get(feed_url, headers={"Authorization": f"Bearer {unknown}"}), 401, "invalid-token")
    problem(await anonymous.get(feed_url, headers={"Authorization": "Bearer rpk_!"}), 401, "invalid-token")
    spare = created(await staff.post(f"/api/v1/sharing/partners/{a.id}/keys", json={"label": "spare"}))
    revoked = await staff.post(f"/api/v1/sharing/partners/{a.id}/keys/{a.key_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    problem(await anonymous.get(feed_url, headers=as_partner(a)), 401, "invalid-token")
    a.api_key = spare["api_key"]  # the partner's other key still works
    assert (await anonymous.get(feed_url, headers=as_partner(a))).status_code == 200

    # a suspended agreement: 403 naming the state; resumed, served again
    suspended = await staff.post(
        f"/api/v1/sharing/agreements/{a.agreement_id}/suspend", headers={"If-Match": f'"{a.agreement_version}"'}
    )
    assert suspended.status_code == 200, suspended.text
    body = problem(await anonymous.get(feed_url, headers=as_partner(a)), 403, "agreement-suspended")
    assert body["status"] == 403 and body["current_status"] == "suspended" and "suspended" in body["title"]
    version = suspended.json()["version"]
    resumed = await staff.post(
        f"/api/v1/sharing/agreements/{a.agreement_id}/resume", headers={"If-Match": f'"{version}"'}
    )
    assert resumed.status_code == 200, resumed.text
    assert (await anonymous.get(feed_url, headers=as_partner(a))).status_code == 200

    # a suspended partner: 403 naming the state on every route, its key still its own
    partner = await staff.get(f"/api/v1/sharing/partners/{a.id}")
    paused = await staff.post(f"/api/v1/sharing/partners/{a.id}/suspend", headers={"If-Match": partner.headers["etag"]})
    assert paused.status_code == 200, paused.text
    for url in (feed_url, "/partner/v1/agreements"):
        body = problem(await anonymous.get(url, headers=as_partner(a)), 403, "partner-suspended")
        assert body["status"] == 403 and body["current_status"] == "suspended"
    again = await staff.post(f"/api/v1/sharing/partners/{a.id}/resume", headers={"If-Match": paused.headers["etag"]})
    assert again.status_code == 200, again.text

    # a terminated agreement's feed is gone
    terminated = await staff.post(
        f"/api/v1/sharing/agreements/{a.agreement_id}/terminate", headers={"If-Match": f'"{resumed.json()["version"]}"'}
    )
    assert terminated.status_code == 200, terminated.text
    problem(await anonymous.get(feed_url, headers=as_partner(a)), 410, "agreement-terminated")


async def test_the_two_faces_never_mix(stack: Stack, staff: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    a = await new_partner(staff, f"Partner D {uuid.uuid4().hex[:8]}")
    # a partner key on the staff API, even on the partner's own records there
    for url in (f"/api/v1/sharing/partners/{a.id}", "/api/v1/customers"):
        problem(await anonymous.get(url, headers=as_partner(a)), 403, "staff-credential-required")
    # a staff token (even admin) on the partner API
    admin = {"Authorization": f"Bearer {stack.token(['admin'])}"}
    problem(await anonymous.get("/partner/v1/agreements", headers=admin), 403, "partner-credential-required")
    # a caller cannot claim to be a partner with the gateway's own headers
    forged = {"X-Relacja-Partner-Id": a.id, "X-Relacja-Principal-Kind": "partner"}
    problem(await anonymous.get("/partner/v1/agreements", headers=forged), 401, "authentication-required")
    # the introspection endpoint is not reachable through the gateway
    refused = await anonymous.post("/internal/v1/partner-credentials/introspect", json={"api_key": a.api_key})
    assert refused.status_code == 404


async def test_partner_keys_cannot_be_checked_while_sharing_is_down(stack: Stack) -> None:
    """A gateway whose sharing service refuses connections: 503 with Retry-After, never a pass."""
    down = f"http://127.0.0.1:{closed_port()}"
    key = "rpk_0123456789abcdef_" + "a" * 43
    async with inprocess_gateway(stack, upstreams={"sharing": down}, retry_attempts=0) as gateway:
        response = await gateway.get("/partner/v1/agreements", headers={"Authorization": f"Bearer {key}"})
    body = problem(response, 503, "upstream-unavailable")
    assert int(response.headers["retry-after"]) >= 1 and "sharing" in body["detail"] and down not in response.text
