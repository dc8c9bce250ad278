"""Opportunities against the running sales service: stage history, closing rules, bad input
answered with problems naming the field and nothing half-written, the won deal's draft
order through the orders service, record-level access."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import asyncpg
import httpx

from relacja_devstack import StackConfig

from ...support import eventually
from .support import (
    MANAGER,
    as_caller,
    create_loss_reason,
    create_pipeline,
    new_customer,
    open_deal,
    problem,
    sales_events,
)

REP = as_caller("rep-ivy", team="east")


async def test_every_stage_change_is_recorded_and_a_pipeline_edit_keeps_the_history(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    pipeline = await create_pipeline(api)
    qualify, propose, negotiate = (stage["id"] for stage in pipeline["stages"][:3])
    deal = await open_deal(api, pipeline, REP, expected_close_date=(date.today() + timedelta(days=30)).isoformat())
    assert deal["stage_id"] == qualify and deal["probability"] == 10 and deal["owner_id"] == "rep-ivy"
    for stage in (propose, negotiate, propose):
        response = await api.post(
            f"/api/v1/sales/opportunities/{deal['id']}/move", json={"stage_id": stage}, headers=REP
        )
        assert response.status_code == 200, response.text
    # The pipeline renames "Propose" and re-weighs it: open deals take the new probability,
    # the history keeps the names and probabilities of its time.
    stages = [
        {
            "id": s["id"],
            "name": s["name"],
            "probability": s["probability"],
            "is_won": s["is_won"],
            "is_closed": s["is_closed"],
        }
        for s in pipeline["stages"]
    ]
    stages[1] |= {"name": "Proposal sent", "probability": 40}
    edit = await api.patch(
        f"/api/v1/sales/pipelines/{pipeline['id']}", json={"stages": stages}, headers=MANAGER | {"If-Match": '"1"'}
    )
    assert edit.status_code == 200, edit.text
    assert (await api.get(f"/api/v1/sales/opportunities/{deal['id']}", headers=REP)).json()["probability"] == 40

    history = (await api.get(f"/api/v1/sales/opportunities/{deal['id']}/stage-history", headers=REP)).json()["items"]
    assert [(h["from_stage_name"], h["to_stage_name"], h["probability"]) for h in history] == [
        (None, "Qualify", 10),
        ("Qualify", "Propose", 50),
        ("Propose", "Negotiate", 80),
        ("Negotiate", "Propose", 50),
    ]
    assert all(h["changed_by"] == "rep-ivy" for h in history)
    assert [h["left_at"] is None for h in history] == [False, False, False, True]
    assert history[1]["left_at"] == history[2]["changed_at"]
    events = await sales_events(db, "opportunity_id", deal["id"])
    assert [kind for kind, _ in events] == ["opportunity.created.v1"] + ["opportunity.stage_changed.v1"] * 3
    assert events[-1][1]["from_stage_name"] == "Negotiate" and events[-1][1]["to_stage_id"] == propose


async def test_losing_needs_a_managed_reason_and_winning_refuses_one(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    pipeline = await create_pipeline(api)
    reason = await create_loss_reason(api)
    deal = await open_deal(api, pipeline, REP)
    url = f"/api/v1/sales/opportunities/{deal['id']}"
    problem(await api.post(f"{url}/lose", json={}, headers=REP), 422, "body.loss_reason")
    problem(await api.post(f"{url}/lose", json={"loss_reason": "no_such_reason"}, headers=REP), 422, "body.loss_reason")
    problem(await api.post(f"{url}/win", json={"loss_reason": reason}, headers=REP), 422, "body.loss_reason")
    # Nothing was half-written by the refused calls.
    unchanged = (await api.get(url, headers=REP)).json()
    assert unchanged["status"] == "open" and unchanged["version"] == deal["version"]
    assert len((await api.get(f"{url}/stage-history", headers=REP)).json()["items"]) == 1
    assert [kind for kind, _ in await sales_events(db, "opportunity_id", deal["id"])] == ["opportunity.created.v1"]

    lost = await api.post(f"{url}/lose", json={"loss_reason": reason}, headers=REP)
    assert lost.status_code == 200, lost.text
    assert lost.json()["status"] == "lost" and lost.json()["loss_reason"] == reason
    assert lost.json()["stage_id"] == pipeline["stages"][4]["id"]
    again = problem(await api.post(f"{url}/win", json={}, headers=REP), 409)
    assert again["current_status"] == "lost" and again["allowed_actions"] == []
    kinds = [kind for kind, _ in await sales_events(db, "opportunity_id", deal["id"])]
    assert kinds == ["opportunity.created.v1", "opportunity.stage_changed.v1", "opportunity.lost.v1"]


async def test_bad_input_names_the_field_and_writes_nothing(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    pipeline, other = await create_pipeline(api), await create_pipeline(api)
    customer = await new_customer()
    base = {"customer_id": str(customer), "pipeline_id": pipeline["id"], "amount": "10.00", "currency": "PLN"}
    cases = [
        ({"stage_id": str(uuid.uuid4())}, "body.stage_id"),
        ({"stage_id": other["stages"][0]["id"]}, "body.stage_id"),  # a stage of another pipeline
        ({"stage_id": pipeline["stages"][3]["id"]}, "body.stage_id"),  # the won stage: only by `win`
        ({"amount": "-5.00"}, "body.amount"),
        ({"amount": 5}, "body.amount"),  # a number, not a decimal string
        ({"expected_close_date": (date.today() - timedelta(days=1)).isoformat()}, "body.expected_close_date"),
        ({"pipeline_id": str(uuid.uuid4())}, "body.pipeline_id"),
        (
            {
                "line_items": [
                    {"product_id": str(uuid.uuid4()), "quantity": 1, "unit_price": "5.00", "discount_amount": "6.00"}
                ]
            },
            "body.line_items[0].discount_amount",
        ),
        ({"owner_id": "someone-else"}, "body.owner_id"),  # a rep opens deals for themselves only
    ]
    for change, field in cases:
        problem(await api.post("/api/v1/sales/opportunities", json=base | change, headers=REP), 422, field)
    assert await db.fetchval("SELECT count(*) FROM opportunities WHERE customer_id = $1", customer) == 0
    assert (
        await db.fetchval("SELECT count(*) FROM outbox_events WHERE payload->>'customer_id' = $1", str(customer)) == 0
    )

    deal = await open_deal(api, pipeline, REP, customer_id=customer)
    move = await api.post(
        f"/api/v1/sales/opportunities/{deal['id']}/move", json={"stage_id": other["stages"][1]["id"]}, headers=REP
    )
    assert problem(move, 422, "body.stage_id")["type"].endswith("stage-of-another-pipeline")
    stale = await api.patch(
        f"/api/v1/sales/opportunities/{deal['id']}", json={"amount": "20.00"}, headers=REP | {"If-Match": '"9"'}
    )
    problem(stale, 412)
    problem(await api.patch(f"/api/v1/sales/opportunities/{deal['id']}", json={"amount": "20.00"}, headers=REP), 428)
    changed = await api.patch(
        f"/api/v1/sales/opportunities/{deal['id']}", json={"amount": "20.00"}, headers=REP | {"If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"' and changed.json()["amount"] == "20.00"


async def test_a_won_deal_asks_the_orders_service_for_a_draft_order(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    pipeline = await create_pipeline(api)
    product = str(uuid.uuid4())
    lines = [{"product_id": product, "quantity": 3, "unit_price": "19.99", "discount_amount": "5.00"}]
    deal = await open_deal(api, pipeline, REP, amount="54.97", line_items=lines)
    won = await api.post(f"/api/v1/sales/opportunities/{deal['id']}/win", json={"draft_order": True}, headers=REP)
    assert won.status_code == 200, won.text
    assert won.json()["status"] == "won" and won.json()["probability"] == 100
    events = dict(await sales_events(db, "opportunity_id", deal["id"]))
    assert events["opportunity.won.v1"]["draft_order"] is True
    assert events["opportunity.won.v1"]["line_items"] == [lines[0] | {"quantity": 3}]

    async with httpx.AsyncClient(base_url=StackConfig.for_profile("test").service_url("orders"), timeout=20) as orders:

        async def drafted() -> dict | None:
            response = await orders.get(f"/api/v1/orders/drafts/{deal['id']}")
            return response.json() if response.status_code == 200 else None

        draft = await eventually(drafted, timeout=60)
    assert draft["customer_id"] == deal["customer_id"] and draft["owner_id"] == "rep-ivy"
    assert draft["lines"] == [{"product_id": product, "quantity": 3, "unit_price": "19.99", "discount_amount": "5.00"}]
    assert draft["currency"] == "PLN"


async def test_concurrent_moves_of_one_deal_serialise(api: httpx.AsyncClient) -> None:
    pipeline = await create_pipeline(api)
    deal = await open_deal(api, pipeline, REP)
    targets = [pipeline["stages"][1]["id"], pipeline["stages"][2]["id"]] * 3
    answers = await asyncio.gather(
        *(
            api.post(
                f"/api/v1/sales/opportunities/{deal['id']}/move",
                json={"stage_id": s},
                headers=REP | {"If-Match": '"1"'},
            )
            for s in targets
        )
    )
    assert sorted(a.status_code for a in answers) == [200] + [412] * 5
    history = (await api.get(f"/api/v1/sales/opportunities/{deal['id']}/stage-history", headers=REP)).json()["items"]
    assert len(history) == 2


async def test_another_reps_deal_is_not_there_for_a_rep(api: httpx.AsyncClient) -> None:
    pipeline = await create_pipeline(api)
    ivy = await open_deal(api, pipeline, REP)
    max_ = as_caller("rep-max", team="east")
    lead = as_caller("lead-east", team="east", roles="sales_team_lead")
    url = f"/api/v1/sales/opportunities/{ivy['id']}"
    problem(await api.get(url, headers=max_), 404)
    problem(await api.post(f"{url}/move", json={"stage_id": pipeline["stages"][1]["id"]}, headers=max_), 404)
    problem(await api.get(f"{url}/stage-history", headers=max_), 404)
    listed = (await api.get(f"/api/v1/sales/opportunities?pipeline_id={pipeline['id']}", headers=max_)).json()
    assert listed["items"] == []
    assert (await api.get(url, headers=lead)).status_code == 200  # the team lead of east
    assert (await api.get(url, headers=as_caller("lead-west", team="west", roles="sales_team_lead"))).status_code == 404
    assert (await api.get(url, headers=MANAGER)).status_code == 200
