"""Redemptions under concurrency, adjustments, bad input, merge and erasure — against the
real services of the test stack."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from ...support import eventually
from .support import assert_ledger_sums, customer, enrol, member, programme, wait_balance


async def _reward(api: httpx.AsyncClient, programme_id: str, cost: int) -> str:
    offer = await api.post(
        "/api/v1/loyalty/offers",
        json={"name": "5 PLN", "discount_kind": "fixed_amount", "discount_value": "5.00", "currency": "PLN"},
    )
    assert offer.status_code == 201, offer.text
    reward = await api.post(
        "/api/v1/loyalty/rewards",
        json={"programme_id": programme_id, "name": "Bon", "points_cost": cost, "offer_id": offer.json()["id"]},
    )
    assert reward.status_code == 201, reward.text
    return str(reward.json()["id"])


async def _adjust(api: httpx.AsyncClient, member_id: str, points: int, reason: str = "goodwill") -> httpx.Response:
    return await api.post(
        f"/api/v1/loyalty/members/{member_id}/adjustments",
        json={"points": points, "reason": reason},
        headers={"X-Relacja-Principal": "agent-7"},
    )


async def test_two_concurrent_redemptions_the_balance_covers_once_exactly_one_succeeds(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    club = await programme(api)
    joined = await enrol(api, club["id"], await customer(customers_api))
    assert (await _adjust(api, joined["id"], 100)).status_code == 201
    reward_id = await _reward(api, club["id"], 60)
    for _ in range(5):  # several rounds: a race that passes once by luck would not pass five times
        answers = await asyncio.gather(
            *[
                api.post(f"/api/v1/loyalty/members/{joined['id']}/redemptions", json={"reward_id": reward_id})
                for _ in range(2)
            ]
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 409).json()
        assert refused["type"].endswith("insufficient-points") and refused["requested"] == 60
        assert (await _adjust(api, joined["id"], 60)).status_code == 201  # back to 100 for the next round
    found = await member(api, joined["id"])
    assert found["balance"] == 100 and found["available"] == 100
    coupons = await db.fetchval(
        "SELECT count(*) FROM loyalty_coupons WHERE customer_id = $1", uuid.UUID(joined["customer_id"])
    )
    assert coupons == 5
    await assert_ledger_sums(db, joined["id"])


async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    club = await programme(api)
    joined = await enrol(api, club["id"], await customer(customers_api))
    for body, field in [
        ({"points": 1.5, "reason": "x"}, "body.points"),
        ({"points": 10}, "body.reason"),
        ({"points": 10, "reason": "   "}, "body.reason"),
        ({"points": 0, "reason": "x"}, "body.points"),
    ]:
        answer = await api.post(f"/api/v1/loyalty/members/{joined['id']}/adjustments", json=body)
        assert answer.status_code == 422, answer.text
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.text
    too_much = await _adjust(api, joined["id"], -1)
    assert too_much.status_code == 409 and too_much.json()["type"].endswith("insufficient-points")
    for body, field in [
        ({"name": "x", "discount_kind": "percentage", "discount_value": "100.5"}, "body.discount_value"),
        (
            {
                "name": "x",
                "discount_kind": "percentage",
                "discount_value": "10",
                "valid_from": "2026-12-01T00:00:00Z",
                "valid_until": "2026-11-01T00:00:00Z",
            },
            "body.valid_until",
        ),
    ]:
        answer = await api.post("/api/v1/loyalty/offers", json=body)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    not_member = await api.post(
        f"/api/v1/loyalty/members/{uuid.uuid4()}/redemptions", json={"reward_id": str(uuid.uuid4())}
    )
    assert not_member.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM loyalty_ledger WHERE member_id = $1", uuid.UUID(joined["id"])) == 0
    again = await api.post(
        "/api/v1/loyalty/members", json={"programme_id": club["id"], "customer_id": joined["customer_id"]}
    )
    assert again.status_code == 409 and again.json()["existing_id"] == joined["id"]


async def test_merge_combines_ledgers_and_coupons_under_the_survivor(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    club = await programme(api)
    survivor, other = await customer(customers_api), await customer(customers_api)
    kept, gone = await enrol(api, club["id"], survivor), await enrol(api, club["id"], other)
    assert (await _adjust(api, kept["id"], 30)).status_code == 201
    assert (await _adjust(api, gone["id"], 70)).status_code == 201
    reward_id = await _reward(api, club["id"], 20)
    assert (
        await api.post(f"/api/v1/loyalty/members/{gone['id']}/redemptions", json={"reward_id": reward_id})
    ).status_code == 201
    version = (await customers_api.get(f"/api/v1/customers/{survivor}")).headers["ETag"]
    merged = await customers_api.post(
        f"/api/v1/customers/{survivor}/merge", json={"merge_customer_id": other}, headers={"If-Match": version}
    )
    assert merged.status_code == 200, merged.text
    found = await wait_balance(api, kept["id"], 80)
    assert found["available"] == 80
    gone_now = await member(api, gone["id"])
    assert gone_now["status"] == "merged" and gone_now["balance"] == 0
    entries = await db.fetchval("SELECT count(*) FROM loyalty_ledger WHERE member_id = $1", uuid.UUID(kept["id"]))
    assert entries == 3
    coupons = await api.get("/api/v1/loyalty/coupons", params={"customer_id": survivor})
    assert len(coupons.json()["items"]) == 1
    await assert_ledger_sums(db, kept["id"])


async def test_erasure_removes_personal_data_and_keeps_the_amounts(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    club = await programme(api)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    assert (await _adjust(api, joined["id"], 40, reason="Complaint of Ola Lojalna")).status_code == 201
    erased = await customers_api.post(f"/api/v1/customers/{customer_id}/erase")
    assert erased.status_code == 200, erased.text

    async def gone() -> dict | None:
        found = await member(api, joined["id"])
        return found if found["status"] == "erased" else None

    found = await eventually(gone, timeout=60)
    assert found["card_number"] is None and found["balance"] == 40
    reasons = await db.fetch(
        "SELECT reason, actor, points FROM loyalty_ledger WHERE member_id = $1", uuid.UUID(joined["id"])
    )
    assert [(r["reason"], r["points"]) for r in reasons] == [("(erased)", 40)]
    refused = await api.post("/api/v1/loyalty/members", json={"programme_id": club["id"], "customer_id": customer_id})
    assert refused.status_code in (409, 422)
