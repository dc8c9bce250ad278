"""Campaigns: the holdout receives nothing, and the uplift report computes on known orders.

The expected figures are worked out here by hand from the known data (two treated
customers buying for 100 and 50, one control customer for 40, an order in another
currency that does not count), independently of the service's statistics module.
"""

from __future__ import annotations

import math
import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_devstack import Stack
from relacja_engagement.domain.holdout import in_holdout

from ...support import eventually, publish
from ...support_mail import read_mail
from .support import customer, messages_of, order_placed, segment_member, template, wait_consent, wait_status

CONSUMER = "engagement.triggers"
Z95 = 1.959963984540054


async def test_the_holdout_receives_nothing_and_the_uplift_report_computes_on_known_data(
    stack: Stack,
    api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
    open_policy: dict,
) -> None:
    segment = uuid.uuid4()
    audience = [await customer(customers_api) for _ in range(16)]
    members = [await publish(producer, segment_member(c["id"], segment)) for c in audience]
    for c in audience:
        await wait_consent(api, c["id"], True)

    async def all_members() -> bool | None:
        count = await db.fetchval(
            "SELECT count(*) FROM inbox_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
            CONSUMER,
            [m.id for m in members],
        )
        return True if count == len(members) else None

    await eventually(all_members)

    offer = await template(api, body="News for {{ customer.given_name }}")
    created = await api.post(
        "/api/v1/engagement/campaigns",
        json={"name": "Holdout", "segment_id": str(segment), "template_id": offer["id"], "holdout_percent": "50"},
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["audience_size"] == 16
    planned = campaign["planned"]
    control_n = planned.get("held_out", 0)
    treated_n = 16 - control_n
    assert control_n >= 1 and treated_n >= 2, planned  # md5 draw at 50 %: anything else is ~1e-4 likely

    await wait_status(api, count=treated_n, campaign_id=campaign["id"], status="sent", timeout=120)
    held = await messages_of(api, campaign_id=campaign["id"], status="held_out")
    treated = await messages_of(api, campaign_id=campaign["id"], status="sent")
    assert len(held) == control_n and all(m["sent_at"] is None for m in held)
    # The statement's md5 draw is the domain's: the same customers are held out.
    campaign_id = uuid.UUID(campaign["id"])
    assert {m["customer_id"] for m in held} == {
        c["id"] for c in audience if in_holdout(campaign_id, uuid.UUID(c["id"]), Decimal("50"))
    }
    emails = {c["id"]: c["email"] for c in audience}
    received = {m["To"] for m in read_mail(stack.mail_dir)}
    assert not received.intersection(emails[m["customer_id"]] for m in held)
    assert received.issuperset(emails[m["customer_id"]] for m in treated)

    # Known orders after the send: treated 100 + 50, control 40 (+ an EUR order not counted).
    orders = [
        order_placed(treated[0]["customer_id"], "100.00"),
        order_placed(treated[1]["customer_id"], "50.00"),
        order_placed(held[0]["customer_id"], "40.00"),
        order_placed(held[0]["customer_id"], "999.00", currency="EUR"),
    ]
    published = [await publish(producer, o) for o in orders]

    async def orders_in() -> bool | None:
        count = await db.fetchval(
            "SELECT count(*) FROM inbox_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
            CONSUMER,
            [e.id for e in published],
        )
        return True if count == len(published) else None

    await eventually(orders_in)
    results = (await api.get(f"/api/v1/engagement/campaigns/{campaign['id']}/results")).json()

    assert results["by_status"] == {"sent": treated_n, "held_out": control_n}
    assert results["treated"]["customers"] == treated_n and results["control"]["customers"] == control_n
    assert results["treated"]["converted"] == 2 and results["control"]["converted"] == 1
    assert Decimal(results["treated"]["revenue"]) == Decimal("150") and Decimal(
        results["control"]["revenue"]
    ) == Decimal("40")

    # By hand: proportions and Welch on per-customer revenue (zeros for customers without orders).
    pt, pc = 2 / treated_n, 1 / control_n
    se = math.sqrt(pt * (1 - pt) / treated_n + pc * (1 - pc) / control_n)
    assert results["conversion_uplift"]["estimate"] == pytest.approx(pt - pc)
    assert results["conversion_uplift"]["low"] == pytest.approx(pt - pc - Z95 * se)
    assert results["conversion_uplift"]["high"] == pytest.approx(pt - pc + Z95 * se)
    t_values = [100.0, 50.0] + [0.0] * (treated_n - 2)
    c_values = [40.0] + [0.0] * (control_n - 1)
    if control_n >= 2:
        mt, mc = sum(t_values) / treated_n, sum(c_values) / control_n
        vt = sum((x - mt) ** 2 for x in t_values) / (treated_n - 1)
        vc = sum((x - mc) ** 2 for x in c_values) / (control_n - 1)
        se_r = math.sqrt(vt / treated_n + vc / control_n)
        uplift = results["revenue_per_customer_uplift"]
        assert uplift["estimate"] == pytest.approx(mt - mc)
        assert uplift["low"] == pytest.approx(mt - mc - Z95 * se_r)
        assert uplift["high"] == pytest.approx(mt - mc + Z95 * se_r)
    else:
        assert results["revenue_per_customer_uplift"] is None  # no variance from one control customer


async def test_bad_campaigns_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    wishes = await template(api)
    unknown = await api.post(
        "/api/v1/engagement/campaigns",
        json={"name": "x", "segment_id": str(uuid.uuid4()), "template_id": wishes["id"]},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.segment_id"
    too_big = await api.post(
        "/api/v1/engagement/campaigns",
        json={"name": "x", "segment_id": str(uuid.uuid4()), "template_id": wishes["id"], "holdout_percent": "60"},
    )
    assert too_big.status_code == 422
    assert any("holdout_percent" in e["field"] for e in too_big.json()["errors"])
    bad_template = await api.post(
        "/api/v1/engagement/templates",
        json={
            "name": "x",
            "channel": "email",
            "purpose": "marketing",
            "fallback_language": "en",
            "variants": [{"language": "en", "subject": "Hi", "body": "{{ customer.password }}"}],
        },
    )
    assert bad_template.status_code == 422
    assert bad_template.json()["errors"][0]["field"] == "body.variants.0.body"
    unknown_event = await api.post(
        "/api/v1/engagement/triggers",
        json={"name": "x", "event": "order.exploded", "channel": "email", "template_id": wishes["id"]},
    )
    assert unknown_event.status_code == 422
    assert any("event" in e["field"] for e in unknown_event.json()["errors"])
    count = await api.get("/api/v1/engagement/templates", params={"limit": 500})
    assert "x" not in [t["name"] for t in count.json()["items"]]  # nothing half-written
