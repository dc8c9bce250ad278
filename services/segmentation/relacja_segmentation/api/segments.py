"""Rule-based segments:

    POST   /api/v1/segmentation/segments/preview        count (and a sample) of a rule's members, nothing saved
    POST   /api/v1/segmentation/segments                save a segment (Idempotency-Key); membership materialised
    GET    /api/v1/segmentation/segments                list (cursor-paginated by name)
    GET    /api/v1/segmentation/segments/fields         the fields, types and operators of the rule language
    GET    /api/v1/segmentation/segments/{id}           one segment (ETag)
    PUT    /api/v1/segmentation/segments/{id}           replace name/description/rule (If-Match required)
    DELETE /api/v1/segmentation/segments/{id}           delete (members leave: one removed event each)
    GET    /api/v1/segmentation/segments/{id}/members   members, cursor-paginated; ?format=csv streams all as CSV

A rule that does not validate is 422 with ``errors`` naming each offending member by its
JSON path (``body.rule.and[1].field``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, AsyncIterator, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.pagination import CursorParam, Page, decode_cursor, encode_cursor
from relacja_servicekit.validation import RequireJson

from ..domain.rules import FIELDS, RuleError, OPERATORS, parse_rule
from ..app.membership import refresh_segment
from ..app.rule_sql import CompiledRule, compile_rule

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/segmentation/segments", tags=["segments"])

PROBLEM = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "segmentation.segments.create"
MEMBER_PAGE_MAX = 1000


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: dict[str, Any] = Field(description="The JSON rule (see GET .../segments/fields and docs/segmentation.md)")


class SegmentWrite(RuleBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class SegmentPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    rule: dict[str, Any]
    version: int
    members: int
    created_at: datetime
    updated_at: datetime


class Preview(BaseModel):
    count: int
    sample: list[uuid.UUID] = Field(description="Up to 10 member ids, lowest first")


class Member(BaseModel):
    customer_id: uuid.UUID
    added_at: datetime = Field(description="When the customer entered the segment")


class FieldInfo(BaseModel):
    name: str
    type: str
    description: str
    operators: list[str]
    values: list[str] | None


def validated(body: RuleBody) -> CompiledRule:
    try:
        return compile_rule(parse_rule(body.rule, path="body.rule"))
    except RuleError as error:
        raise Problem(422, "Invalid rule", str(error), type_="validation-error", errors=error.errors) from None


def etag(version: int) -> str:
    return f'"{version}"'


async def _public(session, segment_id: uuid.UUID) -> SegmentPublic | None:
    row = (
        await session.execute(
            text(
                "SELECT s.id, s.name, s.description, s.rule, s.version, s.created_at, s.updated_at, "
                "(SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id) AS members FROM segments s WHERE s.id = :id"
            ),
            {"id": segment_id},
        )
    ).first()
    return SegmentPublic(**row._mapping) if row else None


async def _get_or_404(session, segment_id: uuid.UUID) -> SegmentPublic:
    found = await _public(session, segment_id)
    if found is None:
        raise Problem(404, "Segment not found", f"No segment with id {segment_id}.", type_="not-found")
    return found


def _duplicate(name: str) -> Problem:
    return Problem(409, "Duplicate segment name", f"A segment named {name!r} exists already.", type_="duplicate-segment")


@router.get("/fields", response_model=list[FieldInfo], summary="Fields, types and operators of the rule language")
async def rule_fields() -> list[FieldInfo]:
    return [
        FieldInfo(name=f.name, type=f.type, description=f.description, operators=list(OPERATORS[f.type]), values=list(f.values) or None)
        for f in FIELDS.values()
    ]


@router.post(
    "/preview",
    response_model=Preview,
    dependencies=[RequireJson],
    summary="How many customers a rule selects now (nothing is saved)",
    responses={422: {"description": "Invalid rule (errors name the field)", **PROBLEM}},
)
async def preview(body: RuleBody, session: SessionDep) -> Preview:
    rule = validated(body)
    count = await session.scalar(text(f"SELECT count(*) FROM customer_profiles WHERE {rule.sql}"), rule.params)
    sample = (
        await session.execute(text(f"SELECT customer_id FROM customer_profiles WHERE {rule.sql} ORDER BY customer_id LIMIT 10"), rule.params)
    ).scalars().all()
    return Preview(count=count, sample=list(sample))


@router.post(
    "",
    status_code=201,
    response_model=SegmentPublic,
    dependencies=[RequireJson],
    summary="Save a rule-based segment; its members are materialised (one added event each)",
    responses={409: {"description": "Name taken", **PROBLEM}, 422: {"description": "Invalid rule or body", **PROBLEM}},
)
async def create_segment(body: SegmentWrite, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    rule = validated(body)
    request_fingerprint = fingerprint(body.model_dump(mode="json"))
    segment_id = uuid.uuid4()
    try:
        async with session.begin():
            if idempotency_key:
                stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=request_fingerprint)
                if stored:
                    return stored.to_response()
            if await session.scalar(text("SELECT 1 FROM segments WHERE name = :n"), {"n": body.name}):
                raise _duplicate(body.name)
            await session.execute(
                text("INSERT INTO segments (id, name, description, rule) VALUES (:id, :name, :description, CAST(:rule AS jsonb))"),
                {"id": segment_id, "name": body.name, "description": body.description, "rule": _json(body.rule)},
            )
            await refresh_segment(session, segment_id, body.name, rule, "segment_saved")
            public = await _get_or_404(session, segment_id)
            payload = public.model_dump(mode="json")
            headers = {"Location": f"/api/v1/segmentation/segments/{segment_id}", "ETag": etag(public.version)}
            if idempotency_key:
                await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    except IntegrityError:
        raise _duplicate(body.name) from None
    return JSONResponse(payload, status_code=201, headers=headers)


def _json(value: Any) -> str:
    return json.dumps(value)


@router.get("", response_model=Page[SegmentPublic], summary="Segments, by name")
async def list_segments(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: CursorParam = None
) -> Page[SegmentPublic]:
    after = decode_cursor(cursor, sort="name", arity=1)[0] if cursor else None
    rows = (
        await session.execute(
            text("SELECT id FROM segments WHERE (CAST(:after AS text) IS NULL OR name > :after) ORDER BY name LIMIT :limit"),
            {"after": after, "limit": limit + 1},
        )
    ).scalars().all()
    items = [await _get_or_404(session, segment_id) for segment_id in rows[:limit]]
    next_cursor = encode_cursor([items[-1].name], "name") if len(rows) > limit else None
    return Page[SegmentPublic](items=items, next_cursor=next_cursor)


@router.get("/{segment_id}", response_model=SegmentPublic, summary="One segment", responses={404: {"description": "No such segment", **PROBLEM}})
async def get_segment(segment_id: uuid.UUID, session: SessionDep, response: Response) -> SegmentPublic:
    segment = await _get_or_404(session, segment_id)
    response.headers["ETag"] = etag(segment.version)
    return segment


def _check_version(if_match: str | None, version: int) -> None:
    if if_match is None:
        raise Problem(428, "If-Match required", "Send the segment's ETag in If-Match to change it.", type_="precondition-required")
    if if_match.strip() not in (etag(version), "*"):
        raise Problem(412, "Segment changed", f"The segment is at version {version} ({etag(version)}).", type_="precondition-failed")


@router.put(
    "/{segment_id}",
    response_model=SegmentPublic,
    dependencies=[RequireJson],
    summary="Replace a segment's name, description and rule (If-Match required); membership follows",
    responses={
        404: {"description": "No such segment", **PROBLEM},
        409: {"description": "Name taken", **PROBLEM},
        412: {"description": "Stale If-Match", **PROBLEM},
        422: {"description": "Invalid rule or body", **PROBLEM},
        428: {"description": "If-Match missing", **PROBLEM},
    },
)
async def replace_segment(
    segment_id: uuid.UUID, body: SegmentWrite, session: SessionDep, response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> SegmentPublic:
    rule = validated(body)
    try:
        async with session.begin():
            current = (await session.execute(text("SELECT version FROM segments WHERE id = :id FOR UPDATE"), {"id": segment_id})).first()
            if current is None:
                raise Problem(404, "Segment not found", f"No segment with id {segment_id}.", type_="not-found")
            _check_version(if_match, current.version)
            if await session.scalar(text("SELECT 1 FROM segments WHERE name = :n AND id <> :id"), {"n": body.name, "id": segment_id}):
                raise _duplicate(body.name)
            await session.execute(
                text("UPDATE segments SET name = :name, description = :description, rule = CAST(:rule AS jsonb), version = version + 1, updated_at = now() WHERE id = :id"),
                {"id": segment_id, "name": body.name, "description": body.description, "rule": _json(body.rule)},
            )
            await refresh_segment(session, segment_id, body.name, rule, "segment_saved")
            segment = await _get_or_404(session, segment_id)
    except IntegrityError:
        raise _duplicate(body.name) from None
    response.headers["ETag"] = etag(segment.version)
    return segment


@router.delete(
    "/{segment_id}",
    status_code=204,
    summary="Delete a segment (If-Match required); every member leaves with a removed event",
    responses={404: {"description": "No such segment", **PROBLEM}, 412: {"description": "Stale If-Match", **PROBLEM}, 428: {"description": "If-Match missing", **PROBLEM}},
)
async def delete_segment(
    segment_id: uuid.UUID, session: SessionDep, if_match: Annotated[str | None, Header(alias="If-Match")] = None
) -> Response:
    async with session.begin():
        current = (await session.execute(text("SELECT name, version FROM segments WHERE id = :id FOR UPDATE"), {"id": segment_id})).first()
        if current is None:
            raise Problem(404, "Segment not found", f"No segment with id {segment_id}.", type_="not-found")
        _check_version(if_match, current.version)
        # A rule that matches nobody: every member leaves, set-based, with its event.
        nobody = CompiledRule(sql="false", params={})
        await refresh_segment(session, segment_id, current.name, nobody, "segment_saved")
        await session.execute(text("DELETE FROM segments WHERE id = :id"), {"id": segment_id})
    return Response(status_code=204)


# A page reads only segment_members, along its primary key (segment_id, customer_id): a
# join to the profiles would cost one random heap page per member on a cold cache. The
# scores of a member are one GET /customers/{id} away, and the CSV export carries them.
_MEMBERS_FIRST = text(
    "SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id ORDER BY customer_id LIMIT :limit"
)
# Two statements rather than "(:after IS NULL OR ...)", which would hide the index range from the planner.
_MEMBERS_AFTER = text(
    "SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id AND customer_id > :after "
    "ORDER BY customer_id LIMIT :limit"
)
_CSV_BATCH = text(
    "SELECT m.customer_id, m.added_at, p.rfm_segment, p.abc_class, p.quadrant FROM "
    "(SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id "
    " AND (customer_id > :after) ORDER BY customer_id LIMIT :limit) AS m "
    "LEFT JOIN customer_profiles p ON p.customer_id = m.customer_id ORDER BY m.customer_id"
)


def _members_query(after: uuid.UUID | None, segment_id: uuid.UUID, limit: int):
    if after is None:
        return _MEMBERS_FIRST, {"segment_id": segment_id, "limit": limit}
    return _MEMBERS_AFTER, {"segment_id": segment_id, "after": after, "limit": limit}


@router.get(
    "/{segment_id}/members",
    response_model=Page[Member],
    summary="Members by customer id, cursor-paginated; format=csv streams every member as CSV",
    responses={200: {"content": {"text/csv": {}}}, 404: {"description": "No such segment", **PROBLEM}},
)
async def list_members(
    segment_id: uuid.UUID,
    session: SessionDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MEMBER_PAGE_MAX, description=f"1–{MEMBER_PAGE_MAX}")] = 100,
    cursor: CursorParam = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: the whole membership as text/csv (limit and cursor do not apply)")] = "json",
):
    if not await session.scalar(text("SELECT 1 FROM segments WHERE id = :id"), {"id": segment_id}):
        raise Problem(404, "Segment not found", f"No segment with id {segment_id}.", type_="not-found")
    if format == "csv":
        database = request.app.state.database
        return StreamingResponse(
            _csv(database, segment_id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
        )
    after = decode_cursor(cursor, sort="customer_id", arity=1)[0] if cursor else None
    if after is not None and not isinstance(after, uuid.UUID):
        raise Problem(400, "Invalid cursor", "The cursor is malformed or belongs to another sort order.", type_="invalid-cursor")
    rows = (await session.execute(*_members_query(after, segment_id, limit + 1))).all()
    items = [Member(**row._mapping) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1].customer_id], "customer_id") if len(rows) > limit else None
    return Page[Member](items=items, next_cursor=next_cursor)


async def _csv(database, segment_id: uuid.UUID, batch: int = 5000) -> AsyncIterator[bytes]:
    """All members in keyset batches (constant memory, each batch its own short query)."""
    yield b"customer_id,added_at,rfm_segment,abc_class,quadrant\r\n"
    after = uuid.UUID(int=0)  # below every id
    while True:
        async with database.sessions() as session:
            rows = (await session.execute(_CSV_BATCH, {"segment_id": segment_id, "after": after, "limit": batch})).all()
        if not rows:
            return
        yield "".join(
            f"{r.customer_id},{r.added_at.astimezone(timezone.utc).isoformat().replace('+00:00', 'Z')},{r.rfm_segment or ''},{r.abc_class or ''},{r.quadrant or ''}\r\n"
            for r in rows
        ).encode()
        if len(rows) < batch:
            return
        after = rows[-1].customer_id
