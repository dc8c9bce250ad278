"""Lead scoring against the service: winning and losing feed the team's frequency table in
the deal's transaction; the score is the naive Bayes of tests/unit/sales/test_scoring.py."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from .support import as_caller, create_loss_reason, create_pipeline, open_deal


async def test_closing_deals_counts_and_open_deals_are_scored(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    team = f"score-{uuid.uuid4().hex[:8]}"
    rep = as_caller("rep-score", team=team)
    pipeline = await create_pipeline(api)
    reason = await create_loss_reason(api)
    won = await open_deal(api, pipeline, rep, source="partner")
    lost = await open_deal(api, pipeline, rep, source="web_form")
    assert (await api.post(f"/api/v1/sales/opportunities/{won['id']}/win", headers=rep)).status_code == 200
    lose = await api.post(f"/api/v1/sales/opportunities/{lost['id']}/lose", json={"loss_reason": reason}, headers=rep)
    assert lose.status_code == 200
    counts = {
        (row["field"], row["value"]): (row["won"], row["lost"])
        for row in await db.fetch("SELECT field, value, won, lost FROM scoring_counts WHERE team = $1", team)
    }
    assert counts == {
        ("total", ""): (1, 1),
        ("source", "partner"): (1, 0),
        ("source", "web_form"): (0, 1),
        ("currency", "PLN"): (1, 1),
        ("pipeline_id", pipeline["id"]): (1, 1),
    }
    # The unit test's fixture as this team's history: 100 won, 300 lost.
    await db.execute("DELETE FROM scoring_counts WHERE team = $1", team)
    await db.executemany(
        "INSERT INTO scoring_counts (team, field, value, won, lost) VALUES ($1, $2, $3, $4, $5)",
        [
            (team, "total", "", 100, 300),
            (team, "source", "partner", 60, 40),
            (team, "source", "web_form", 30, 200),
            (team, "source", "campaign", 10, 30),
        ],
    )
    deal = await open_deal(api, pipeline, rep, source="partner")
    score = await api.get(f"/api/v1/sales/opportunities/{deal['id']}/score", headers=rep)
    assert score.status_code == 200, score.text
    assert score.json()["win_probability_percent"] == "57.38"
    used = {e["field"]: e["used"] for e in score.json()["evidence"]}
    assert used == {"source": True, "pipeline_id": False, "currency": False}
    other = as_caller("rep-other", team=team + "-x")
    assert (await api.get(f"/api/v1/sales/opportunities/{deal['id']}/score", headers=other)).status_code == 404
