"""The shared HTTP mechanisms every service uses: ETag / If-Match and the problem
declarations in OpenAPI (``relacja_servicekit.etags``, ``relacja_servicekit.openapi``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from relacja_servicekit import Problem, ServiceSettings, create_service_app
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader, check_if_match, etag, parse_entity_tags
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.openapi import PROBLEM_SCHEMA, problem_responses
from relacja_servicekit.types import Day, Integer, StrictBool, Timestamp


def test_etag_is_a_strong_tag_of_the_version() -> None:
    assert etag(3) == '"3"'


@pytest.mark.parametrize("header", ['"3"', '"2", "3"', "*", ' "1" ,"3" '])
def test_if_match_matches_a_listed_current_tag_or_star(header: str) -> None:
    check_if_match(header, 3)


@pytest.mark.parametrize("header", ['"2"', 'W/"3"', '"2", W/"3"', "3"])
def test_if_match_refuses_other_versions_and_weak_tags_with_412(header: str) -> None:
    # RFC 9110 §13.1.1: If-Match uses the strong comparison, so W/"3" never matches.
    with pytest.raises(Problem) as raised:
        check_if_match(header, 3)
    assert raised.value.status == 412
    assert raised.value.headers == {"ETag": '"3"'}


def test_if_match_missing_is_428_only_when_required() -> None:
    check_if_match(None, 3)
    with pytest.raises(Problem) as raised:
        check_if_match(None, 3, required=True, what="order")
    assert raised.value.status == 428 and "order" in (raised.value.detail or "")


def test_a_comma_inside_a_quoted_tag_stays_in_the_tag() -> None:
    assert parse_entity_tags('"a,b", W/"c"') == ['"a,b"', 'W/"c"']


class Thing(BaseModel):
    name: str


router = APIRouter(prefix="/api/v1/things")


@router.post("", status_code=201)
async def create_thing(thing: Thing, idempotency_key: IdempotencyKeyHeader = None) -> Thing:
    return thing


@router.get("/{thing_id}")
async def get_thing(thing_id: int) -> Thing:
    return Thing(name=str(thing_id))


@router.post("/{thing_id}/archive", responses=problem_responses({409: "Already archived"}))
async def archive_thing(thing_id: int, if_match: IfMatchHeader = None) -> Thing:
    return Thing(name=str(thing_id))


def _document() -> dict:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return create_service_app(name="test", title="test", settings=settings, routers=[router]).openapi()


def test_every_operation_declares_its_problem_answers_as_problem_json() -> None:
    paths = _document()["paths"]
    expected = {
        ("/api/v1/things", "post"): {"400", "409", "413", "415", "422", "503"},
        ("/api/v1/things/{thing_id}", "get"): {"400", "404", "503"},
        ("/api/v1/things/{thing_id}/archive", "post"): {"400", "404", "409", "412", "428", "503"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert {s for s in responses if int(s) >= 400} == statuses, (path, method)
        for status in statuses:
            assert responses[status]["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
    assert paths["/api/v1/things/{thing_id}/archive"]["post"]["responses"]["409"]["description"] == "Already archived"
    assert "Retry-After" in paths["/api/v1/things"]["post"]["responses"]["503"]["headers"]


def test_fastapis_validation_error_shape_is_gone() -> None:
    document = _document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "ValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA


edits = APIRouter(prefix="/api/v1/edits")


class Flagged(BaseModel):
    public: StrictBool = True
    count: Integer = 0
    due_at: Timestamp | None = None
    due_on: Day | None = None


@edits.patch("/{thing_id}")
async def edit_thing(thing_id: int, body: Flagged, if_match: RequiredIfMatchHeader) -> Flagged:
    check_if_match(if_match, 3, required=True)
    return body


@edits.get("")
async def list_edits(after: Timestamp | None = None) -> list[str]:
    return [after.isoformat() if after else "all"]


@pytest.fixture
async def edits_client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_service_app(name="test", title="test", settings=settings, routers=[edits])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_a_required_if_match_is_required_in_openapi_and_missing_is_428(edits_client: httpx.AsyncClient) -> None:
    document = (await edits_client.get("/openapi.json")).json()
    parameters = document["paths"]["/api/v1/edits/{thing_id}"]["patch"]["parameters"]
    assert {"name": "If-Match", "required": True}.items() <= next(
        p for p in parameters if p["name"] == "If-Match"
    ).items()
    response = await edits_client.patch("/api/v1/edits/1", json={})
    assert response.status_code == 428 and response.json()["type"].endswith("precondition-required")
    assert (await edits_client.patch("/api/v1/edits/1", json={}, headers={"If-Match": '"3"'})).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"public": 0}, "body.public"),
        ({"count": False}, "body.count"),
        ({"due_at": 0.5}, "body.due_at"),
        ({"due_on": 0}, "body.due_on"),
    ],
)
async def test_strict_types_refuse_what_lax_mode_would_coerce(
    edits_client: httpx.AsyncClient, body: dict, field: str
) -> None:
    response = await edits_client.patch("/api/v1/edits/1", json=body, headers={"If-Match": '"3"'})
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_strict_types_accept_their_text_forms(edits_client: httpx.AsyncClient) -> None:
    body = {"public": False, "count": 2, "due_at": "2026-01-31T09:00:00Z", "due_on": "2026-01-31"}
    response = await edits_client.patch("/api/v1/edits/1", json=body, headers={"If-Match": '"3"'})
    assert response.status_code == 200, response.text
    assert response.json() == {**body, "due_at": "2026-01-31T09:00:00Z"}


async def test_a_number_is_not_a_timestamp_in_a_query_either(edits_client: httpx.AsyncClient) -> None:
    assert (await edits_client.get("/api/v1/edits", params={"after": "0.5"})).status_code == 400
    assert (await edits_client.get("/api/v1/edits", params={"after": "2026-01-31T09:00:00Z"})).status_code == 200


async def test_an_integral_number_is_an_integer(edits_client: httpx.AsyncClient) -> None:
    # JSON Schema's integer admits 2.0 (a number without a fraction), so the schema's
    # positive data must be accepted; 2.5, "2" and true are not integers.
    response = await edits_client.patch("/api/v1/edits/1", json={"count": 2.0}, headers={"If-Match": '"3"'})
    assert response.status_code == 200 and response.json()["count"] == 2
    for bad in (2.5, "2", True):
        response = await edits_client.patch("/api/v1/edits/1", json={"count": bad}, headers={"If-Match": '"3"'})
        assert response.status_code == 422, bad
