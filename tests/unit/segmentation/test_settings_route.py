"""``GET /api/v1/segmentation/settings`` names the settings that change the service's
answers (the reporting currency above all), and the OpenAPI document shows a segment's
rule as the rule language, not as a bare object. In-process, no database needed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from relacja_segmentation.api.analysis import router as analysis_router
from relacja_segmentation.api.segments import router as segments_router
from relacja_segmentation.settings import SegmentationSettings, get_settings
from relacja_servicekit import create_service_app


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("RELACJA_SEGMENTATION_CURRENCY", "EUR")
    monkeypatch.setenv("RELACJA_SEGMENTATION_ABC_CUTOFF_A", "0.7")
    monkeypatch.setenv("RELACJA_SEGMENTATION_LOYAL_MIN_PURCHASES", "3")
    get_settings.cache_clear()
    app = create_service_app(
        name="segmentation",
        title="segmentation-under-test",
        settings=SegmentationSettings(run_relay=False, run_consumers=False),
        routers=[analysis_router, segments_router],
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http
    get_settings.cache_clear()


async def test_the_settings_that_change_answers_are_readable(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/segmentation/settings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reporting_currency"] == "EUR"
    assert body["abc_cutoffs"] == {"a": 0.7, "b": 0.95}
    assert body["loyalty"] == {"min_purchases": 3, "max_recency_days": 365}
    assert body["recompute_interval_seconds"] == 3600 and "quintile" in body["rfm_mapping"]
    assert (await client.get("/api/v1/segmentation/settings", params={"currency": "USD"})).status_code == 400


async def test_the_openapi_document_shows_the_rule_language_and_the_reporting_currency(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    rule = schemas["SegmentWrite"]["properties"]["rule"]
    alternatives = {ref["$ref"].rsplit("/", 1)[-1] for ref in rule["anyOf"]}
    assert {
        "RuleAnd-Input",
        "RuleTag",
        "RuleConsent",
        "RuleNetRevenue",
        "RuleAbcClassIn",
        "RuleRecencyDaysIsNull",
    } <= alternatives
    assert schemas["RuleNetRevenue"]["properties"]["op"]["enum"] == ["eq", "ne", "lt", "lte", "gt", "gte"]
    assert (
        "reporting_currency" in schemas["RfmDistribution"]["required"]
        and "currency" not in schemas["RfmDistribution"]["properties"]
    )
    put = document["paths"]["/api/v1/segmentation/segments/{segment_id}"]["put"]
    assert {"409", "412", "428"} <= set(put["responses"])
