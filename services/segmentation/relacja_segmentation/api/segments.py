"""Rule-based segments (HTTP; the use cases are in app/segments.py):

    POST   /api/v1/segmentation/segments/preview        count (and a sample) of a rule's members, nothing saved
    POST   /api/v1/segmentation/segments                save a segment (Idempotency-Key); membership materialised
    GET    /api/v1/segmentation/segments                list (cursor-paginated by name)
    GET    /api/v1/segmentation/segments/fields         the fields, types and operators of the rule language
    GET    /api/v1/segmentation/segments/{id}           one segment (ETag)
    PUT    /api/v1/segmentation/segments/{id}           replace name/description/rule (If-Match required)
    DELETE /api/v1/segmentation/segments/{id}           delete (If-Match required; members leave: one removed event each)
    GET    /api/v1/segmentation/segments/{id}/members   members, cursor-paginated; ?format=csv streams all as CSV

A rule that does not validate is 422 with ``errors`` naming each offending member by its
JSON path (``body.rule.and[1].field``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from relacja_servicekit.validation import RequireJson

from ..app import segments
from ..app.segments import DuplicateSegmentName, SegmentCommand, SegmentNotFound, SegmentView
from ..domain.rules import FIELDS, OPERATORS, RuleError
from .rule_models import RULE_DESCRIPTION, RuleInput, SegmentRule

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/segmentation/segments", tags=["segments"])

_CREATE_SCOPE = "segmentation.segments.create"
MEMBER_PAGE_MAX = 1000

_INVALID_RULE = {422: "The rule or the body is invalid: errors name each offending member (body.rule.and[1].field)"}
_NAME_TAKEN = {409: "Another segment has this name (duplicate-segment)"}


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: RuleInput


class SegmentWrite(RuleBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)

    def command(self) -> SegmentCommand:
        return SegmentCommand(name=self.name, description=self.description, rule=self.rule)


_RULE = TypeAdapter(SegmentRule)


class SegmentPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    rule: SegmentRule = Field(description=RULE_DESCRIPTION)
    version: int
    members: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: SegmentView) -> SegmentPublic:
        return cls(**{**view.__dict__, "rule": _RULE.validate_python(view.rule)})


class Preview(BaseModel):
    count: int
    sample: list[uuid.UUID] = Field(description=f"Up to {segments.PREVIEW_SAMPLE} member ids, lowest first")


class Member(BaseModel):
    customer_id: uuid.UUID
    added_at: datetime = Field(description="When the customer entered the segment")


class FieldInfo(BaseModel):
    name: str
    type: Literal["integer", "decimal", "datetime", "enum", "boolean"]
    description: str
    operators: list[str]
    values: list[str] | None


@contextmanager
def _problems() -> Iterator[None]:
    """The use cases' errors as RFC 9457 problems."""
    try:
        yield
    except SegmentNotFound as error:
        raise Problem(404, "Segment not found", str(error), type_="not-found") from None
    except DuplicateSegmentName as error:
        raise Problem(409, "Duplicate segment name", str(error), type_="duplicate-segment") from None
    except RuleError as error:
        errors = [{**e, "field": f"body.{e['field']}"} for e in error.errors]
        raise Problem(
            422,
            "Invalid rule",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            type_="validation-error",
            errors=errors,
        ) from None


def _version_check(if_match: str):
    return functools.partial(check_if_match, if_match, required=True, what="segment")


@router.get("/fields", response_model=list[FieldInfo], summary="Fields, types and operators of the rule language")
async def rule_fields() -> list[FieldInfo]:
    return [
        FieldInfo(
            name=f.name,
            type=f.type,
            description=f.description,
            operators=list(OPERATORS[f.type]),
            values=list(f.values) or None,
        )
        for f in FIELDS.values()
    ]


@router.post(
    "/preview",
    response_model=Preview,
    dependencies=[RequireJson],
    summary="How many customers a rule selects now (nothing is saved)",
    responses=problem_responses(_INVALID_RULE),
)
async def preview(body: RuleBody, session: SessionDep) -> Preview:
    with _problems():
        count, sample = await segments.preview(session, body.rule)
    return Preview(count=count, sample=sample)


@router.post(
    "",
    status_code=201,
    response_model=SegmentPublic,
    dependencies=[RequireJson],
    summary="Save a rule-based segment; its members are materialised (one added event each)",
    responses=problem_responses(
        {
            409: "Another segment has this name (duplicate-segment), or a request with this Idempotency-Key is in progress"
        },
        {422: _INVALID_RULE[422] + "; or the Idempotency-Key was used with another body"},
    ),
)
async def create_segment(
    body: SegmentWrite, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    # The fingerprint is of the body as sent (the rule is kept raw for the domain parser).
    request = {"name": body.name, "description": body.description, "rule": body.rule}
    with _problems():
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, request):
                return stored.to_response()
            segment = await segments.create_segment(session, body.command())
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                SegmentPublic.of(segment).model_dump(mode="json", by_alias=True),
                location=f"{router.prefix}/{segment.id}",
                version=segment.version,
            )


@router.get("", response_model=Page[SegmentPublic], summary="Segments, by name")
async def list_segments(session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None) -> Page[SegmentPublic]:
    after = decode_cursor(cursor, sort="name", arity=1)[0] if cursor else None
    if after is not None and not isinstance(after, str):
        raise Problem(
            400, "Invalid cursor", "The cursor is malformed or belongs to another sort order.", type_="invalid-cursor"
        )
    found = await segments.list_segments(session, after, limit + 1)
    items = [SegmentPublic.of(view) for view in found[:limit]]
    next_cursor = encode_cursor([items[-1].name], "name") if len(found) > limit else None
    return Page[SegmentPublic](items=items, next_cursor=next_cursor)


@router.get("/{segment_id}", response_model=SegmentPublic, summary="One segment (ETag)")
async def get_segment(segment_id: uuid.UUID, session: SessionDep, response: Response) -> SegmentPublic:
    with _problems():
        segment = await segments.get_segment(session, segment_id)
    response.headers["ETag"] = etag(segment.version)
    return SegmentPublic.of(segment)


@router.put(
    "/{segment_id}",
    response_model=SegmentPublic,
    dependencies=[RequireJson],
    summary="Replace a segment's name, description and rule (If-Match required); membership follows",
    responses=problem_responses(_NAME_TAKEN, _INVALID_RULE),
)
async def replace_segment(
    segment_id: uuid.UUID, body: SegmentWrite, session: SessionDep, response: Response, if_match: RequiredIfMatchHeader
) -> SegmentPublic:
    with _problems():
        async with session.begin():
            segment = await segments.replace_segment(session, segment_id, body.command(), _version_check(if_match))
    response.headers["ETag"] = etag(segment.version)
    return SegmentPublic.of(segment)


@router.delete(
    "/{segment_id}",
    status_code=204,
    summary="Delete a segment (If-Match required); every member leaves with a removed event",
)
async def delete_segment(segment_id: uuid.UUID, session: SessionDep, if_match: RequiredIfMatchHeader) -> Response:
    with _problems():
        async with session.begin():
            await segments.delete_segment(session, segment_id, _version_check(if_match))
    return Response(status_code=204)


@router.get(
    "/{segment_id}/members",
    response_model=Page[Member],
    summary="Members by customer id, cursor-paginated; format=csv streams every member as CSV",
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "description": "customer_id,added_at,rfm_segment,abc_class,quadrant"}
                }
            }
        }
    },
)
async def list_members(
    segment_id: uuid.UUID,
    session: SessionDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MEMBER_PAGE_MAX, description=f"Items per page (1–{MEMBER_PAGE_MAX})")] = 100,
    cursor: CursorParam = None,
    format: Annotated[
        Literal["json", "csv"],
        Query(description="csv: the whole membership as text/csv (limit and cursor do not apply)"),
    ] = "json",
) -> Any:
    if format == "csv":
        with _problems():
            await segments.require_segment(session, segment_id)
        return StreamingResponse(
            _csv(request.app.state.database, segment_id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
        )
    after = decode_cursor(cursor, sort="customer_id", arity=1)[0] if cursor else None
    if after is not None and not isinstance(after, uuid.UUID):
        raise Problem(
            400, "Invalid cursor", "The cursor is malformed or belongs to another sort order.", type_="invalid-cursor"
        )
    with _problems():
        rows = await segments.member_page(session, segment_id, after, limit + 1)
    items = [Member(customer_id=row.customer_id, added_at=row.added_at) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1].customer_id], "customer_id") if len(rows) > limit else None
    return Page[Member](items=items, next_cursor=next_cursor)


async def _csv(database, segment_id: uuid.UUID) -> AsyncIterator[bytes]:
    yield b"customer_id,added_at,rfm_segment,abc_class,quadrant\r\n"
    async for rows in segments.member_batches(database, segment_id):
        yield "".join(
            f"{r.customer_id},{r.added_at.astimezone(UTC).isoformat().replace('+00:00', 'Z')},"
            f"{r.rfm_segment or ''},{r.abc_class or ''},{r.quadrant or ''}\r\n"
            for r in rows
        ).encode()
