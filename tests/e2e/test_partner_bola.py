"""Partner A can never read, change or learn of anything of partner B (OWASP API1), and
credentials and states are enforced on the next request — through the gateway.

The matrix walks every operation of /partner/openapi.json (so a new /partner/v1 route is
covered, or fails here until this test knows how to name B's object for it): each path
parameter gets B's object of that kind, and the call under A's key is 404, like an object
that does not exist. Operations without an id in the path are lists of A's own: they answer
200 and never mention B's ids. A path parameter or a body-taking operation this test does
not know is a failure that says what to add.

Then: a revoked or an unknown key is 401 on the next request; a suspended partner, or a
suspended agreement, is 403 with a problem naming the state; a terminated agreement's
feed is 410.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from relacja_devstack import Stack

STAFF_SCOPES = ["sharing:read", "sharing:admin"]
PLACED = "relacja.orders.order.placed.v1"
_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass
class Partner:
    id: str
    agreement_id: str
    agreement_version: int
    key_id: str
    api_key: str


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


async def new_partner(staff: httpx.AsyncClient, name: str) -> Partner:
    partner = created(await staff.post("/api/v1/sharing/partners", json={"legal_name": name}))
    agreement = created(
        await staff.post(
            "/api/v1/sharing/agreements",
            json={
                "partner_id": partner["id"],
                "name": f"{name} orders",
                "purposes": ["delivery"],
                "direction": "both",
                "legal_basis": "contract",
                "allowed_fields": {PLACED: ["order_number"]},
            },
        )
    )
    activated = await staff.post(
        f"/api/v1/sharing/agreements/{agreement['id']}/activate", headers={"If-Match": f'"{agreement["version"]}"'}
    )
    assert activated.status_code == 200, activated.text
    key = created(await staff.post(f"/api/v1/sharing/partners/{partner['id']}/keys", json={"label": "bola"}))
    return Partner(partner["id"], agreement["id"], activated.json()["version"], key["id"], key["api_key"])


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
    values = {"agreement_id": b.agreement_id, "dimension": "segment"}
    assert name in values, (
        f"/partner/v1 has a path parameter {{{name}}} this test cannot fill: give it partner B's object of that "
        "kind in b_value(), so the route is walked with B's id"
    )
    return values[name]


async def test_every_partner_route_hides_b_from_a(
    stack: Stack, staff: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    suffix = uuid.uuid4().hex[:8]
    a = await new_partner(staff, f"Partner A {suffix}")
    b = await new_partner(staff, f"Partner B {suffix}")
    document = (await anonymous.get("/partner/openapi.json", params={"refresh": "true"})).json()
    assert document["info"]["x-missing-services"] == []
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 4, operations
    walked = []
    for method, path, operation in operations:
        names = _PARAMETER.findall(path)
        if names:
            url = _PARAMETER.sub(lambda m: b_value(m.group(1), b), path)
            response = await anonymous.request(method, url, headers=as_partner(a), json={} if method != "GET" else None)
            problem(response, 404, "not-found")
            # ... and B itself reaches the same object, so the 404 is about who asks.
            if method == "GET":
                own = await anonymous.get(url, headers=as_partner(b))
                assert own.status_code == 200, (path, own.text)
        else:
            assert method == "GET" and "requestBody" not in operation, (
                f"{method} {path} takes its object in the body: teach this test B's object for it"
            )
            response = await anonymous.get(path, headers=as_partner(a))
            assert response.status_code == 200, (path, response.text)
            for b_id in (b.id, b.agreement_id):
                assert b_id not in response.text, (path, "mentions B's", b_id)
        walked.append(f"{method} {path}")
    assert "GET /partner/v1/feeds/{agreement_id}/events" in walked


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
