"""The churn API's voice: its settings endpoint, strict request bodies, the deprecated
plural time units, and what a run that did not succeed answers (activate: 409
illegal-transition; its scores and equity: 409 run-not-succeeded).

The runs created here are calibrated on 1900-01-01, before every purchase of every test,
so they fail at once ("no customer has a purchase") and never become the active run.
"""

from __future__ import annotations

import uuid

import httpx

from ...support import eventually

NO_DATA = "1900-01-01"


async def _finished(api: httpx.AsyncClient, run_id: str) -> dict:
    async def done() -> dict | None:
        body = (await api.get(f"/api/v1/churn/models/{run_id}")).json()
        return body if body["status"] in ("succeeded", "failed") else None

    return await eventually(done, timeout=120, interval=0.3)


async def test_the_settings_that_change_answers_are_readable(api) -> None:
    response = await api.get("/api/v1/churn/settings")
    assert response.status_code == 200, response.text
    settings = response.json()
    assert settings["reporting_currency"] == "PLN"
    assert settings["run_defaults"] == {"time_unit": "week", "horizon_months": 12, "monthly_discount_rate": 0.01}
    assert [t["risk_tier"] for t in settings["risk_tiers"]] == ["critical", "high", "medium", "low"]
    assert (
        settings["risk_tiers"][0]["min_probability_alive"] == 0.0
        and settings["risk_tiers"][-1]["max_probability_alive"] == 1.0
    )
    assert [b["from_percentile"] for b in settings["value_bands"]] == [0.0, 50.0, 80.0, 95.0]
    assert settings["loyal_min_probability_alive"] == 0.5


async def test_a_run_left_unspecified_takes_the_defaults_and_a_plural_unit_is_answered_singular(api) -> None:
    defaults = await api.post("/api/v1/churn/models", json={"calibration_end": NO_DATA})
    assert defaults.status_code == 202, defaults.text
    run = defaults.json()
    assert (run["time_unit"], run["horizon_months"], run["monthly_discount_rate"]) == ("week", 12, 0.01)
    assert run["reporting_currency"] == run["currency"] == "PLN"
    for plural, singular in (("days", "day"), ("months", "month"), ("week", "week")):
        created = await api.post("/api/v1/churn/models", json={"calibration_end": NO_DATA, "time_unit": plural})
        assert created.status_code == 202 and created.json()["time_unit"] == singular
        listed = (await api.get(f"/api/v1/churn/models/{created.json()['id']}")).json()
        assert listed["time_unit"] == singular


async def test_request_bodies_take_only_what_their_schema_says(api) -> None:
    for wrong in (
        {"calibration_end": 0},
        {"calibration_end": NO_DATA, "activate": 0},
        {"calibration_end": NO_DATA, "horizon_months": "12"},
        {"calibration_end": NO_DATA, "horizon_months": 0},
        {"calibration_end": NO_DATA, "monthly_discount_rate": "0.5"},
        {"calibration_end": NO_DATA, "monthly_discount_rate": True},
        {"calibration_end": NO_DATA, "acquired_from": 19000101},
        {"calibration_end": NO_DATA, "time_unit": "weekly"},
        {"calibration_end": NO_DATA, "colour": "red"},
    ):
        response = await api.post("/api/v1/churn/models", json=wrong)
        assert response.status_code == 422, (wrong, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_failed_run_cannot_be_activated_and_has_no_scores(api) -> None:
    created = await api.post("/api/v1/churn/models", json={"calibration_end": NO_DATA, "activate": True})
    run = await _finished(api, created.json()["id"])
    assert run["status"] == "failed" and "no customer" in run["error"]

    activate = await api.post(f"/api/v1/churn/models/{run['id']}/activate")
    assert activate.status_code == 409 and activate.headers["content-type"].startswith("application/problem+json")
    problem = activate.json()
    assert problem["type"].endswith("illegal-transition")
    assert (problem["current_status"], problem["action"], problem["allowed_actions"]) == ("failed", "activate", [])

    for path in ("/api/v1/churn/customers", "/api/v1/churn/equity", f"/api/v1/churn/customers/{uuid.uuid4()}"):
        response = await api.get(path, params={"run_id": run["id"]})
        assert response.status_code == 409, (path, response.text)
        assert response.json()["type"].endswith("run-not-succeeded") and response.json()["run_status"] == "failed"

    missing = await api.post(f"/api/v1/churn/models/{uuid.uuid4()}/activate")
    assert missing.status_code == 404 and missing.json()["type"].endswith("not-found")
    assert (await api.get("/api/v1/churn/equity", params={"run_id": str(uuid.uuid4())})).status_code == 404
