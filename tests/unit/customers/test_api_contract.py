"""The customers service's OpenAPI document and request models: what a client is told
about If-Match, problems and field types (no database: the app is only built)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from relacja_customers.app.important_dates import ImportantDateCreate, ImportantDateUpdate
from relacja_customers.app.interactions import InteractionCreate
from relacja_customers.app.schemas import AwareTimestamp, CustomerCreate
from relacja_customers.main import app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return app.openapi()


def _if_match(operation: dict[str, Any]) -> dict[str, Any] | None:
    return next((p for p in operation.get("parameters", []) if p["name"] == "If-Match"), None)


@pytest.mark.parametrize(
    ("path", "method", "required"),
    [
        ("/api/v1/customers/{customer_id}", "patch", True),
        ("/api/v1/customers/{customer_id}/merge", "post", True),
        ("/api/v1/customers/{customer_id}/important-dates/{date_id}", "patch", True),
        ("/api/v1/customers/{customer_id}/important-dates/{date_id}", "delete", False),
        ("/api/v1/customers/{customer_id}/erase", "post", False),
    ],
)
def test_if_match_is_declared_required_on_edits_and_optional_on_actions(
    document: dict[str, Any], path: str, method: str, required: bool
) -> None:
    operation = document["paths"][path][method]
    header = _if_match(operation)
    assert header is not None and header["required"] is required
    assert {"412", "428"} <= set(operation["responses"])


def test_every_problem_is_problem_json_and_fastapi_422_is_gone(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, method, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_route_specific_problems_keep_their_description(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/customers"]["post"]["responses"]
    assert "existing_id" in create["409"]["description"]
    assert "kind" in document["paths"]["/api/v1/customers/{customer_id}"]["patch"]["responses"]["422"]["description"]


def test_the_read_through_answer_keeps_its_shape(document: dict[str, Any]) -> None:
    # Other services read GET /api/v1/customers/{id} on a projection miss: its answer is
    # the CustomerPublic record, with erased_at for an erased customer.
    get = document["paths"]["/api/v1/customers/{customer_id}"]["get"]["responses"]["200"]
    assert get["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CustomerPublic"}
    assert {"id", "kind", "lifecycle_stage", "version", "erased_at"} <= set(
        document["components"]["schemas"]["CustomerPublic"]["required"]
    )


@pytest.mark.parametrize("value", [0, 1.5, "0.5", "2026-01-31T09:00:00"])
def test_an_aware_timestamp_is_rfc3339_text_with_an_offset(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(AwareTimestamp).validate_python(value)
    assert TypeAdapter(AwareTimestamp).validate_python("2026-01-31T09:00:00+01:00").utcoffset() is not None
    assert TypeAdapter(AwareTimestamp).validate_python(datetime(2026, 1, 31, tzinfo=UTC)).year == 2026


def test_dates_and_integers_are_strict_in_bodies() -> None:
    with pytest.raises(ValidationError):
        CustomerCreate.model_validate({"kind": "person", "birth_date": 0})
    with pytest.raises(ValidationError):
        CustomerCreate.model_validate(
            {"kind": "person", "custom_attributes": {"since": {"type": "date", "value": 20200101}}}
        )
    with pytest.raises(ValidationError):
        ImportantDateCreate.model_validate({"kind": "birthday", "month": "5", "day": 3})
    with pytest.raises(ValidationError):
        ImportantDateCreate.model_validate({"kind": "birthday", "month": True, "day": 3})
    with pytest.raises(ValidationError):
        InteractionCreate.model_validate({"channel": "note", "direction": "internal", "duration_seconds": 1.5})
    # JSON Schema's integer is any number without a fraction: 60.0 is 60 seconds.
    assert (
        InteractionCreate.model_validate(
            {"channel": "note", "direction": "internal", "duration_seconds": 60.0}
        ).duration_seconds
        == 60
    )
    assert CustomerCreate.model_validate({"kind": "person", "birth_date": "1990-05-03"}).birth_date == date(1990, 5, 3)


def test_an_important_date_patch_says_kind_month_and_day_cannot_be_null(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["ImportantDateUpdate"]["properties"]
    assert properties["month"] == {"type": "integer", "minimum": 1, "maximum": 12, "title": "Month"}
    assert "anyOf" not in properties["kind"] and "anyOf" in properties["year"]
    assert ImportantDateUpdate.model_validate({"day": 4}).model_dump(exclude_unset=True) == {"day": 4}


async def test_the_settings_that_change_answers_are_readable() -> None:
    import httpx
    from fastapi import FastAPI

    from relacja_customers.api.service_settings import router
    from relacja_customers.settings import CustomersSettings

    settings_app = FastAPI()
    settings_app.include_router(router)
    settings_app.state.settings = CustomersSettings(default_phone_region="DE", important_dates_lead_days=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=settings_app), base_url="http://test") as client:
        body = (await client.get("/api/v1/customers/settings")).json()
    assert body["default_phone_region"] == "DE" and body["important_dates_lead_days"] == 3
    assert body["important_dates_max_window_days"] == 366 and body["important_dates_run_at"] == "00:05:00Z"


def test_settings_is_routed_before_a_customer_id(document: dict[str, Any]) -> None:
    # The document lists paths in routing order: /settings must not be read as a customer id.
    paths = list(document["paths"])
    assert paths.index("/api/v1/customers/settings") < paths.index("/api/v1/customers/{customer_id}")
