"""``/api/v1/engagement/templates``: per-language templates, checked at save time, and a preview.

POST /api/v1/engagement/templates                 create (Idempotency-Key); 422 naming the variant
GET  /api/v1/engagement/templates[/{id}]
PUT  /api/v1/engagement/templates/{id}            replace (If-Match required)
POST /api/v1/engagement/templates/{id}/preview    render with samples or a customer's fields
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import templates
from ..app.schemas import PreviewIn, PreviewPublic, TemplateIn, TemplatePublic, TemplatesPublic
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement/templates", tags=["engagement templates"], dependencies=[RequireJson])

_INVALID = {
    422: "Invalid body: an unknown variable, an unsafe construct, a syntax error, a missing subject, a fallback "
    "language without a variant (the field in errors)"
}


@router.post(
    "",
    status_code=201,
    response_model=TemplatePublic,
    summary="Create a template",
    responses=problem_responses(_INVALID),
)
async def create_template(body: TemplateIn, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> Any:
    scope = "engagement.templates.create"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            created = await templates.create_template(session, body)
            return await created_response(
                session,
                scope,
                idempotency_key,
                created.model_dump(mode="json"),
                location=f"/api/v1/engagement/templates/{created.id}",
                version=created.version,
            )


@router.get("", response_model=TemplatesPublic, summary="List templates, newest first (cursor-paginated)")
async def list_templates(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await templates.list_templates(session, limit=limit, cursor=cursor)


@router.get(
    "/{template_id}",
    response_model=TemplatePublic,
    summary="Get a template",
    responses=problem_responses({404: "No such template"}),
)
async def get_template(template_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        template = await templates.get_template(session, template_id)
    response.headers["ETag"] = etag(template.version)
    return template


@router.put(
    "/{template_id}",
    response_model=TemplatePublic,
    summary="Replace a template",
    responses=problem_responses({404: "No such template"}, 412, 428, _INVALID),
)
async def replace_template(
    template_id: uuid.UUID, body: TemplateIn, session: SessionDep, if_match: RequiredIfMatchHeader
) -> Any:
    with app_errors():
        async with session.begin():
            row = await templates.template_row(session, template_id, lock=True)
            check_if_match(if_match, row.version, required=True, what="template")
            updated = await templates.replace_template(session, template_id, body, row.version)
    return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})


@router.post(
    "/{template_id}/preview",
    response_model=PreviewPublic,
    summary="Render a template with sample values or a customer's fields",
    responses=problem_responses(
        {404: "No such template"}, {422: "Invalid body; a customer this service does not know (customer_id)"}
    ),
)
async def preview(template_id: uuid.UUID, body: PreviewIn, session: SessionDep) -> Any:
    with app_errors():
        return await templates.preview(session, template_id, body)
