"""The whole CDNOW master log (23,570 customers, 69,659 purchases, 1997–98) through the
services: its customers imported through the gateway, its orders as one ~10 MB NDJSON
import through the gateway (a bulk route, far above the 1 MiB limit of the others), the
order events projected by churn, and a model run fitted through the gateway. The run
covers every CDNOW customer — the 70 whose purchases up to the calibration end were all
free too, since a free order is a purchase occasion — and matches, row by row, the models run directly on the
raw file (relacja_churn.domain.models, the reference implementation).

The log is moved 40 years back (1957–58), an era no other test uses, so the run's window
holds these customers only; a constant shift of days changes no interval.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest

from relacja_churn.domain.models.bgnbd import fit_bgnbd
from relacja_churn.domain.models.card import score
from relacja_churn.domain.models.gamma_gamma import fit_gamma_gamma
from relacja_churn.domain.models.summary import summarise
from relacja_devstack import Stack

from ..support import eventually
from ..unit.churn.cdnow import CALIBRATION_END, CDNOW_DIR

SCOPES = ["customers:read", "customers:write", "orders:read", "orders:write", "analytics:read", "analytics:write"]
SHIFT = timedelta(days=date(1997, 1, 1).toordinal() - date(1957, 1, 1).toordinal())
CAL_END = CALIBRATION_END - SHIFT
RUN: dict[str, Any] = {
    "calibration_end": CAL_END.isoformat(),
    "acquired_from": (date(1997, 1, 1) - SHIFT).isoformat(),
    "time_unit": "week",
    "horizon_months": 12,
    "monthly_discount_rate": 0.01,
    "activate": False,
}


def cdnow_master() -> list[tuple[str, date, str]]:
    """(CDNOW customer id, day, dollars) for every line of the master log."""
    rows = []
    for line in (CDNOW_DIR / "CDNOW_master.txt").read_text().splitlines()[1:]:
        if line.strip():
            customer, ymd, _cds, dollars = line.split()
            rows.append((customer, date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:])), dollars))
    return rows


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # The import is answered when its last batch is written: up to the gateway's bulk timeout.
    headers = {"Authorization": f"Bearer {stack.token(SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=180) as client:
        yield client


async def import_customers(
    client: httpx.AsyncClient, stack: Stack, prefix: str, cdnow_ids: list[str]
) -> dict[str, uuid.UUID]:
    """Imports the customers and waits until the orders service knows every one (its
    projection is fed by their events); returns CDNOW id → customer id."""
    body = "external_id,given_name,family_name\n" + "".join(f"{prefix}{c},Cdnow,Customer {c}\n" for c in cdnow_ids)
    response = await client.post(
        "/api/v1/customers/imports", content=body.encode(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 202, response.text
    assert (response.json()["rows_created"], response.json()["rows_failed"]) == (len(cdnow_ids), 0)
    orders_db = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
    try:

        async def all_known() -> list | None:
            rows = await orders_db.fetch(
                "SELECT external_id, customer_id FROM known_customers WHERE external_id LIKE $1", prefix + "%"
            )
            return rows if len(rows) == len(cdnow_ids) else None

        known = await eventually(all_known, timeout=300, interval=2)
    finally:
        await orders_db.close()
    return {row["external_id"].removeprefix(prefix): row["customer_id"] for row in known}


def orders_body(prefix: str, lines: list[tuple[str, date, str]]) -> bytes:
    return "".join(
        json.dumps(
            {
                "external_id": f"{prefix}o{n}",
                "customer_external_id": f"{prefix}{customer}",
                "ordered_at": f"{(day - SHIFT).isoformat()}T12:00:00Z",
                "total": dollars,
                "currency": "PLN",
            }
        )
        + "\n"
        for n, (customer, day, dollars) in enumerate(lines)
    ).encode()


async def wait_for_job(client: httpx.AsyncClient, url: str) -> dict:
    async def finished() -> dict | None:
        job = (await client.get(url)).json()
        return job if job["status"] != "running" else None

    return await eventually(finished, timeout=300, interval=1)


@pytest.mark.flood
async def test_the_cdnow_master_log_through_the_services(stack: Stack, client: httpx.AsyncClient) -> None:
    prefix = f"cdnow-{uuid.uuid4().hex[:8]}-"
    lines = cdnow_master()
    cdnow_ids = sorted({customer for customer, _, _ in lines})
    assert (len(cdnow_ids), len(lines)) == (23_570, 69_659)
    ids = await import_customers(client, stack, prefix, cdnow_ids)

    # A 10 MB import through the gateway: a bulk route, so neither 413 nor a timeout.
    body = orders_body(prefix, lines)
    assert len(body) > 10_000_000
    response = await client.post(
        "/api/v1/orders/imports", content=body, headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text
    job = await wait_for_job(client, f"/api/v1/orders/imports/{response.json()['id']}")
    assert job["status"] == "completed", job
    assert (job["rows_total"], job["rows_created"], job["rows_failed"]) == (len(lines), len(lines), 0)

    # Every order projected by churn, then one fit through the gateway.
    churn_db = await asyncpg.connect(stack.database_url("churn").replace("+asyncpg", ""))
    try:

        async def all_projected() -> bool:
            n = await churn_db.fetchval(
                "SELECT count(*) FROM churn_orders WHERE placed_on BETWEEN $1 AND $2",
                min(d for _, d, _ in lines) - SHIFT,
                max(d for _, d, _ in lines) - SHIFT,
            )
            return n == len(lines)

        # The churn consumer applies order events one by one: ~80/s on a loaded 2-core machine.
        await eventually(all_projected, timeout=1800, interval=5)
    finally:
        await churn_db.close()
    created = await client.post("/api/v1/churn/models", json=RUN, headers={"Idempotency-Key": prefix})
    assert created.status_code == 202, created.text
    run_url = f"/api/v1/churn/models/{created.json()['id']}"

    async def fitted() -> dict | None:
        card = (await client.get(run_url)).json()
        return card if card["status"] in ("succeeded", "failed") else None

    card = await eventually(fitted, timeout=300, interval=1)
    assert card["status"] == "succeeded", card

    # The library fit: the models on the raw log, one key per CDNOW customer.
    key = {c: i for i, c in enumerate(cdnow_ids)}
    s = summarise(
        np.array([key[c] for c, _, _ in lines]),
        np.array([d.toordinal() for _, d, _ in lines]),
        np.array([float(v) for _, _, v in lines]),
        calibration_end_day=CALIBRATION_END.toordinal(),
        unit="week",
    )
    bg, gg = fit_bgnbd(s.x, s.t_x, s.T), fit_gamma_gamma(s.x, s.monetary)
    expected, _ = score(
        bg.params,
        gg.params,
        s.x,
        s.t_x,
        s.T,
        s.monetary,
        unit="week",
        horizon_months=RUN["horizon_months"],
        monthly_discount_rate=RUN["monthly_discount_rate"],
    )
    assert len(s) == len(cdnow_ids)  # CDNOW's customers all came in 1997's first quarter
    all_free = int((s.total_spend == 0).sum())
    assert all_free == 70  # customers whose every purchase in calibration was free: in the cohort all the same
    assert (card["n_customers"], card["n_repeat_buyers"]) == (len(s), int((s.x > 0).sum()))
    for name in ("r", "alpha", "a", "b"):
        assert card["bgnbd"][name] == pytest.approx(getattr(bg.params, name), rel=1e-6)
    for name in ("p", "q", "gamma"):
        assert card["gamma_gamma"][name] == pytest.approx(getattr(gg.params, name), rel=1e-5)

    # Every row of the run, paged through the gateway, against the library's row.
    rows: dict[str, dict] = {}
    cursor = None
    while True:
        params = {"run_id": card["id"], "limit": 500} | ({"cursor": cursor} if cursor else {})
        page = await client.get("/api/v1/churn/customers", params=params)
        assert page.status_code == 200, page.text
        rows |= {item["customer_id"]: item for item in page.json()["items"]}
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert set(rows) == {str(ids[c]) for c in cdnow_ids}
    got = [rows[str(ids[cdnow_ids[i]])] for i in s.customer]
    assert [r["history"]["x"] for r in got] == s.x.astype(int).tolist()
    assert np.allclose([r["history"]["t_x"] for r in got], s.t_x) and np.allclose([r["history"]["T"] for r in got], s.T)
    assert np.allclose(
        # Money is rounded to cents (half even): at most half a cent off, plus float noise.
        [float(r["history"]["mean_repeat_spend"]["amount"]) for r in got],
        s.monetary,
        rtol=0,
        atol=0.00501,
    )
    assert np.allclose([r["probability_alive"] for r in got], expected.p_alive, rtol=1e-5)
    assert np.allclose([r["expected_purchases"] for r in got], expected.expected_purchases, rtol=1e-5)
    assert np.allclose([float(r["clv"]["amount"]) for r in got], expected.clv, rtol=1e-5, atol=0.01)
