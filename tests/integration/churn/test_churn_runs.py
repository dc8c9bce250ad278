"""The churn service end to end on its own: order events on the real broker build the
projection; a model run fitted through the API matches the models run directly on the
same transactions; new orders re-score at once and announce tier changes; merges
re-key the history; a holdout run reports predicted against actual purchases.

The CDNOW customers (1997–98) are the fitted population; the other tests here use
customers of 1989, outside every run window of this module.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import numpy as np
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_churn.app.runs import schedule_refit_if_due
from relacja_churn.domain.models.bgnbd import fit_bgnbd
from relacja_churn.domain.models.card import score as score_rows
from relacja_churn.domain.models.gamma_gamma import fit_gamma_gamma
from relacja_churn.domain.models.summary import summarise
from relacja_contracts.events import CustomerErasedV1, CustomersMergedV1
from relacja_contracts.topics import CHURN
from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ...support import applied, eventually, publish, read_topic
from ...unit.churn.cdnow import CDNOW_DIR
from .conftest import at_noon, cancelled, placed, returned

N_CUSTOMERS = 250
SALT = uuid.uuid4()
CAL_END = date(1997, 9, 30)
# "weeks": the deprecated plural spelling, still accepted (answered as "week").
CDNOW_RUN: dict[str, Any] = {
    "calibration_end": "1997-09-30",
    "acquired_from": "1997-01-01",
    "time_unit": "weeks",
    "horizon_months": 12,
    "monthly_discount_rate": 0.01,
}


def cdnow_orders() -> list[tuple[uuid.UUID, uuid.UUID, date, Decimal]]:
    """(customer, order, day, amount) for the first N_CUSTOMERS of the CDNOW sample, one order
    per line, its zero-value purchases included (customers 87, 155 and 227 bought only free)."""
    orders = []
    for line in (CDNOW_DIR / "CDNOW_sample.txt").read_text().splitlines():
        _, sample_id, ymd, _, dollars = line.split()
        if int(sample_id) > N_CUSTOMERS:
            continue
        customer = uuid.uuid5(SALT, sample_id)
        day = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
        orders.append((customer, uuid.uuid4(), day, Decimal(dollars)))
    return orders


async def wait_for_orders(db, order_ids: list[uuid.UUID], timeout: float = 120) -> None:
    async def all_there():
        n = await db.fetchval("SELECT count(*) FROM churn_orders WHERE order_id = ANY($1::uuid[])", order_ids)
        return n == len(order_ids)

    await eventually(all_there, timeout=timeout, interval=0.5)


async def wait_for_run(api, run_id: str, timeout: float = 120) -> dict:
    async def finished():
        body = (await api.get(f"/api/v1/churn/models/{run_id}")).json()
        return body if body["status"] in ("succeeded", "failed") else None

    return await eventually(finished, timeout=timeout, interval=0.3)


@pytest.fixture(scope="module")
async def cdnow_loaded(stack: Stack):
    """The CDNOW customers' orders, published once for the module and projected."""
    orders = cdnow_orders()
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        for customer, order, day, amount in orders:
            await publish(producer, placed(customer, order, day, amount), wait=False)
        await producer.flush()
    finally:
        await producer.stop()
    db = await asyncpg.connect(stack.database_url("churn").replace("+asyncpg", ""))
    try:
        await wait_for_orders(db, [o[1] for o in orders])
    finally:
        await db.close()
    return orders


@pytest.fixture
async def cdnow_run_active(api, cdnow_loaded) -> dict:
    """The CDNOW run as the active run: live scores exist only under an active run, and the
    tiers asserted here are those of its parameters. The same Idempotency-Key as the first
    test's fit gives back that run (or fits it, when a test runs alone), so no test depends
    on another having run before it."""
    response = await api.post("/api/v1/churn/models", json=CDNOW_RUN, headers={"Idempotency-Key": f"fit-{SALT}"})
    assert response.status_code == 202, response.text
    card = await wait_for_run(api, response.json()["id"])
    assert card["status"] == "succeeded", card
    if not card["active"]:  # another run (the scheduled refit's) was activated since
        activated = await api.post(f"/api/v1/churn/models/{card['id']}/activate")
        assert activated.status_code == 200, activated.text
    return card


def expected_fit(orders):
    keys = {c: i for i, c in enumerate(sorted({o[0] for o in orders}))}
    customer = np.array([keys[o[0]] for o in orders])
    day = np.array([o[2].toordinal() for o in orders])
    amount = np.array([float(o[3]) for o in orders])
    s = summarise(customer, day, amount, calibration_end_day=CAL_END.toordinal(), unit="week")
    return s, fit_bgnbd(s.x, s.t_x, s.T), fit_gamma_gamma(s.x, s.monetary)


async def test_a_run_fitted_through_the_api_matches_the_models_on_the_same_transactions(api, db, cdnow_loaded) -> None:
    response = await api.post("/api/v1/churn/models", json=CDNOW_RUN, headers={"Idempotency-Key": f"fit-{SALT}"})
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] in ("pending", "running", "succeeded") and response.headers["Location"].endswith(run["id"])
    assert run["time_unit"] == "week" and run["reporting_currency"] == "PLN"  # "weeks" sent: the deprecated alias
    card = await wait_for_run(api, run["id"])
    assert card["status"] == "succeeded", card
    summary, bg, gg = expected_fit(cdnow_loaded)
    # Every customer is fitted, those whose purchases were all free too: a free order is a
    # purchase occasion (docs/churn.md); only the spend model leaves them out.
    assert card["n_customers"] == len(summary) == N_CUSTOMERS
    assert card["n_repeat_buyers"] == int((summary.x > 0).sum())
    for name in ("r", "alpha", "a", "b"):
        assert card["bgnbd"][name] == pytest.approx(getattr(bg.params, name), rel=1e-6)
    for name in ("p", "q", "gamma"):
        assert card["gamma_gamma"][name] == pytest.approx(getattr(gg.params, name), rel=1e-5)
    assert card["log_likelihood"] == pytest.approx(bg.log_likelihood, rel=1e-9)
    # Row by row: the stored summary and scores are the models' on the same transactions.
    rows = {
        r["customer_id"]: r
        for r in await db.fetch("SELECT * FROM churn_scores WHERE run_id = $1", uuid.UUID(run["id"]))
    }
    ids = sorted({o[0] for o in cdnow_loaded})
    assert set(rows) == set(ids)
    expected, _ = score_rows(
        bg.params,
        gg.params,
        summary.x,
        summary.t_x,
        summary.T,
        summary.monetary,
        unit="week",
        horizon_months=CDNOW_RUN["horizon_months"],
        monthly_discount_rate=CDNOW_RUN["monthly_discount_rate"],
    )
    got = [rows[ids[i]] for i in summary.customer]
    assert [r["x"] for r in got] == summary.x.astype(int).tolist()
    assert np.allclose([r["t_x"] for r in got], summary.t_x) and np.allclose([r["t_cal"] for r in got], summary.T)
    assert np.allclose([r["monetary"] for r in got], summary.monetary)
    assert np.allclose([r["p_alive"] for r in got], expected.p_alive, rtol=1e-6)
    assert np.allclose([r["clv"] for r in got], expected.clv, rtol=1e-5)
    free = rows[uuid.uuid5(SALT, "0087")]  # bought once, for nothing: in the cohort, x = 0, m̄ = 0
    assert (free["x"], free["monetary"], free["first_purchase_on"]) == (0, 0.0, date(1997, 1, 5))
    assert card["active"] is True
    assert (
        card["data_window"]["first_purchase_from"] >= "1997-01-01"
        and card["data_window"]["last_purchase_on"] <= "1997-09-30"
    )
    assert {"load_seconds", "fit_seconds", "score_seconds", "write_seconds", "total_seconds"} <= set(card["timings"])
    # The same Idempotency-Key and body replays the first answer.
    again = await api.post("/api/v1/churn/models", json=CDNOW_RUN, headers={"Idempotency-Key": f"fit-{SALT}"})
    assert again.json()["id"] == run["id"] and again.headers.get("Idempotent-Replayed") == "true"

    # A customer's score: customer 1 of CDNOW (x = 2, t_x = 30.43, T = 38.86 weeks).
    first = uuid.uuid5(SALT, "0001")
    score = (await api.get(f"/api/v1/churn/customers/{first}")).json()
    assert score["run_id"] == run["id"]
    assert (
        score["history"]["x"] == 2
        and round(score["history"]["t_x"], 2) == 30.43
        and round(score["history"]["T"], 2) == 38.86
    )
    assert 0 < score["probability_alive"] < 1 and score["risk_tier"] in ("low", "medium", "high", "critical")
    assert Decimal(score["clv"]["amount"]) > 0 and score["clv"]["currency"] == "PLN"

    # Lists filtered by tier page through exactly the run's customers of that tier.
    seen, cursor = [], None
    while True:
        params = {"risk_tier": "critical", "limit": 40} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/api/v1/churn/customers", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen and all(item["risk_tier"] == "critical" and item["run_id"] == run["id"] for item in seen)
    assert len({item["customer_id"] for item in seen}) == len(seen)
    equity = (await api.get("/api/v1/churn/equity")).json()
    assert equity["customers"] == len(summary)
    by_tier = sum(g["customers"] for g in equity["by_risk_tier"] if g["key"] == "critical")
    assert by_tier == len(seen)


async def test_projection_merges_same_day_orders_and_drops_cancelled_and_returned(
    api, db, producer, cdnow_run_active
) -> None:
    customer = uuid.uuid4()
    o1, o2, o3, o4, o5 = (uuid.uuid4() for _ in range(5))
    d0 = date(1989, 3, 1)
    await publish(producer, placed(customer, o1, d0, "10"))
    await publish(producer, placed(customer, o2, d0, "5"))  # same day: one transaction of 15
    await publish(producer, placed(customer, o3, d0 + timedelta(days=14), "40"))
    await publish(
        producer, cancelled(customer, o3, d0 + timedelta(days=14), "40", occurred_at=at_noon(d0 + timedelta(days=15)))
    )
    await publish(producer, placed(customer, o4, d0 + timedelta(days=28), "30"))
    await publish(
        producer,
        returned(customer, o4, d0 + timedelta(days=28), "30", "30", occurred_at=at_noon(d0 + timedelta(days=40))),
    )
    await publish(producer, placed(customer, o5, d0 + timedelta(days=35), "50"))
    # An older snapshot arriving late does not undo the cancellation.
    late = await publish(producer, placed(customer, o3, d0 + timedelta(days=14), "40"))
    # The late snapshot is the last event of this customer's partition: once it is applied, all are.
    await eventually(lambda: applied(db, "churn.projection", late.id), timeout=30)

    async def scored():
        response = await api.get(f"/api/v1/churn/customers/{customer}")
        body = response.json() if response.status_code == 200 else None
        return body if body and body["history"]["last_purchase_on"] == "1989-04-05" else None

    score = await eventually(scored, timeout=30)
    history = score["history"]
    assert (history["x"], history["first_purchase_on"], history["last_purchase_on"]) == (1, "1989-03-01", "1989-04-05")
    assert history["t_x"] == pytest.approx(5.0)  # 35 days in weeks
    assert history["mean_repeat_spend"]["amount"] == "50.00"


async def test_a_new_order_rescores_at_once_and_announces_the_tier(
    api, producer, stack: Stack, cdnow_run_active
) -> None:
    customer = uuid.uuid4()
    await publish(producer, placed(customer, uuid.uuid4(), date(1989, 5, 1), "20"))

    async def first_score():
        response = await api.get(f"/api/v1/churn/customers/{customer}")
        return response.json() if response.status_code == 200 else None

    before = await eventually(first_score, timeout=30)
    assert before["history"]["x"] == 0 and before["probability_alive"] == 1.0 and before["risk_tier"] == "low"
    # Two more purchases long ago: after a long silence the customer is probably gone.
    await publish(producer, placed(customer, uuid.uuid4(), date(1989, 5, 8), "20"))
    await publish(producer, placed(customer, uuid.uuid4(), date(1989, 5, 15), "20"))

    async def rescored():
        body = await first_score()
        return body if body and body["history"]["x"] == 2 else None

    after = await eventually(rescored, timeout=30)
    assert after["probability_alive"] < 0.25 and after["risk_tier"] == "critical"
    # The tier events are relayed from the outbox asynchronously: read until the last one is on the topic.
    records = await read_topic(
        stack.bootstrap_servers,
        CHURN.name,
        header="ce_subject",
        values={str(customer)},
        until=lambda found: json.loads(found[-1].value)["risk_tier"] == "critical",
    )
    tiers = [(json.loads(r.value)["previous_risk_tier"], json.loads(r.value)["risk_tier"]) for r in records]
    assert tiers[0] == (None, "low") and tiers[-1][1] == "critical"


async def test_a_merge_moves_the_history_to_the_survivor(api, producer, cdnow_run_active) -> None:
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    await publish(producer, placed(survivor, uuid.uuid4(), date(1989, 7, 1), "10"))
    await publish(producer, placed(merged, uuid.uuid4(), date(1989, 7, 20), "30"))
    await publish(
        producer,
        CustomersMergedV1(customer_id=survivor, merged_customer_id=merged, merged_at=at_noon(date(1989, 8, 1))),
    )
    # A late order of the merged id lands on the survivor.
    await publish(producer, placed(merged, uuid.uuid4(), date(1989, 8, 10), "50"))

    async def merged_history():
        response = await api.get(f"/api/v1/churn/customers/{survivor}")
        body = response.json() if response.status_code == 200 else None
        return body if body and body["history"]["x"] == 2 else None

    score = await eventually(merged_history, timeout=30)
    assert score["history"]["last_purchase_on"] == "1989-08-10"
    via_merged_id = (await api.get(f"/api/v1/churn/customers/{merged}")).json()
    assert via_merged_id["customer_id"] == str(survivor)


async def test_a_holdout_run_reports_predicted_against_actual(api, cdnow_loaded) -> None:
    response = await api.post(
        "/api/v1/churn/models",
        json={"calibration_end": "1997-09-30", "acquired_from": "1997-01-01", "holdout_end": "1998-06-30"},
    )
    assert response.status_code == 202
    card = await wait_for_run(api, response.json()["id"])
    assert card["status"] == "succeeded" and card["active"] is False  # validation runs are not activated
    holdout = card["holdout"]
    by_customer: dict[uuid.UUID, set[date]] = {}
    for customer, _, day, _ in cdnow_loaded:
        if CAL_END < day <= date(1998, 6, 30):
            by_customer.setdefault(customer, set()).add(day)
    actual = sum(len(days) for days in by_customer.values())
    assert holdout["total"]["actual"] == actual
    assert sum(g["customers"] for g in holdout["groups"]) == card["n_customers"]
    assert holdout["total"]["predicted"] == pytest.approx(
        sum(g["predicted"] * g["customers"] for g in holdout["groups"]), rel=1e-9
    )
    assert abs(holdout["total"]["predicted"] - actual) / actual < 0.35


async def test_bad_requests_are_problems(api) -> None:
    bad = await api.post("/api/v1/churn/models", json={"calibration_end": "1997-09-30", "holdout_end": "1997-01-01"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "holdout_end" in bad.text
    assert (await api.post("/api/v1/churn/models", json={"calibration_end": "soon"})).status_code == 422
    assert (
        await api.post("/api/v1/churn/models", json={"calibration_end": "1997-09-30", "time_unit": "years"})
    ).status_code == 422
    missing = await api.get(f"/api/v1/churn/models/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["title"] == "Model run not found"
    assert (await api.get("/api/v1/churn/customers", params={"risk_tier": "doomed"})).status_code in (400, 422)
    assert (await api.get("/api/v1/churn/customers", params={"colour": "red"})).status_code == 400
    assert (await api.get("/api/v1/churn/customers", params={"cursor": "nonsense"})).status_code == 400
    assert (await api.get(f"/api/v1/churn/customers/{uuid.uuid4()}")).status_code == 404


async def test_an_erased_customer_leaves_the_lists_but_keeps_the_aggregate_score(
    api, producer, cdnow_run_active
) -> None:
    customer = uuid.uuid4()
    await publish(producer, placed(customer, uuid.uuid4(), date(1989, 9, 1), "25"))

    async def listed():
        ids, cursor = set(), None
        while True:
            params = {"risk_tier": "low", "limit": 500} | ({"cursor": cursor} if cursor else {})
            page = (await api.get("/api/v1/churn/customers", params=params)).json()
            ids |= {item["customer_id"] for item in page["items"]}
            if (cursor := page["next_cursor"]) is None:
                return str(customer) in ids or None

    await eventually(listed, timeout=30)  # one-time buyer: P(alive) = 1, tier low
    await publish(producer, CustomerErasedV1(customer_id=customer, erased_at=at_noon(date(1989, 10, 1))))

    async def gone():
        return (await listed()) is None

    await eventually(gone, timeout=30)
    assert (await api.get(f"/api/v1/churn/customers/{customer}")).status_code == 200


async def test_the_scheduled_refit_queues_a_run_with_the_active_settings(stack: Stack, api, cdnow_run_active) -> None:
    active = (await api.get("/api/v1/churn/models/active")).json()
    engine = create_async_engine(stack.database_url("churn"))
    now = datetime.now(UTC)  # one reading of the clock: the run may finish after midnight UTC
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            run_id = await schedule_refit_if_due(session, now=now, interval_seconds=0.001)
    finally:
        await engine.dispose()
    assert run_id is not None
    card = await wait_for_run(api, str(run_id))
    assert card["trigger"] == "schedule" and card["status"] == "succeeded", card
    assert card["calibration_end"] == now.date().isoformat()
    assert (card["acquired_from"], card["time_unit"], card["horizon_months"]) == (
        active["acquired_from"],
        active["time_unit"],
        active["horizon_months"],
    )
    assert card["active"] is True
    assert (await api.get(f"/api/v1/churn/models/{active['id']}")).json()["active"] is False
