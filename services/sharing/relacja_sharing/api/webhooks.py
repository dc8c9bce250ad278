"""Webhook endpoints per agreement, on both faces, with the same routes and rules.

Staff (``sharing:admin`` to write): ``/api/v1/sharing/agreements/{agreement_id}/endpoints``
Partner (its own agreements only):  ``/partner/v1/agreements/{agreement_id}/endpoints``

POST   …/endpoints                                   register (SSRF-checked; the secret shown once; Idempotency-Key)
GET    …/endpoints                                   the agreement's endpoints
GET    …/endpoints/{id}                              one endpoint with its ETag
PATCH  …/endpoints/{id}                              change URL, filter, limits (If-Match required)
DELETE …/endpoints/{id}                              remove it and its queue (If-Match required)
POST   …/endpoints/{id}/{enable|disable}             (If-Match required; 409 illegal-transition)
POST   …/endpoints/{id}/rotate-secret                a new secret, shown once; the old one signs beside it 24 h
GET    …/endpoints/{id}/messages                     deliveries, newest first (?status=)
GET    …/endpoints/{id}/attempts                     the delivery log per attempt, newest first (?message_id=)
POST   …/endpoints/{id}/messages/{message_id}/redeliver   queue one finished message again
POST   …/endpoints/{id}/redeliver                    queue again everything since a time

A partner reaches only endpoints of its own agreements (another's is 404, like a missing one);
a suspended partner gets 403 (partner-suspended). A URL the SSRF guard refuses is 422 with
``rule`` naming the rule (https_required, loopback_address, private_address, ...).
"""

# No ``from __future__ import annotations`` here: the routes are made in a function, and FastAPI
# must see their ``Owner`` annotation (a local alias) evaluated, not as a string to look up globally.
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, remember
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import agreements, partners, webhooks
from ..app.errors import NotFound, PartnerUnavailable
from ..app.webhook_schemas import (
    AttemptsPublic,
    EndpointCreate,
    EndpointCreated,
    EndpointPatch,
    EndpointPublic,
    EndpointSecret,
    EndpointsPublic,
    MessagePublic,
    MessagesPublic,
    MessageStatus,
    RedeliverSince,
    RedeliveryQueued,
)
from ..settings import SharingSettings
from .principal import UNAUTHENTICATED, PartnerIdDep
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["partner_router", "staff_router"]


def _settings(request: Request) -> SharingSettings:
    settings: SharingSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[SharingSettings, Depends(_settings)]
_CREATE_SCOPE = "sharing.endpoints.create"
_MessageId = Annotated[str, Path(pattern=r"^msg_[0-9a-f]{32}$", description="The webhook-id of the message")]
_MessageIdFilter = Annotated[
    str | None, Query(pattern=r"^msg_[0-9a-f]{32}$", description="Only this message's attempts")
]
_REFUSED_URL = "The URL or filter is refused: `rule` names the rule (https_required, loopback_address, ...)"

Face = Literal["staff", "partner"]


def _no_partner() -> None:
    return None


def _partner(partner_id: PartnerIdDep) -> uuid.UUID:
    return partner_id


@contextmanager
def _endpoint_errors() -> Iterator[None]:
    try:
        with app_errors():
            yield
    except webhooks.InvalidEndpoint as err:
        raise Problem(
            422,
            "Endpoint refused",
            err.message,
            type_="validation-error",
            errors=[{"field": err.field, "message": err.message}],
            extra={"rule": err.rule},
        ) from None


async def _agreement(session: AsyncSession, agreement_id: uuid.UUID, partner_id: uuid.UUID | None) -> Row[Any]:
    if partner_id is not None:
        try:
            partner = await partners.get_partner(session, partner_id)
        except NotFound:
            raise UNAUTHENTICATED from None  # the gateway vouched for a partner this service does not know
        if partner.status != "active":
            raise PartnerUnavailable("partner", partner.status)
    return await agreements.get_agreement(session, agreement_id, partner_id=partner_id)


def _routes(router: APIRouter, face: Face, owner: Callable[..., uuid.UUID | None]) -> None:
    """The endpoint routes on ``router``; ``owner`` gives the calling partner (None for staff)."""
    Owner = Annotated[uuid.UUID | None, Depends(owner)]
    base = router.prefix
    who = (
        {401: "No partner credentials", 403: "The partner is suspended (partner-suspended)"}
        if face == "partner"
        else {}
    )
    missing = (
        "No such agreement of yours, or no such endpoint" if face == "partner" else "No such agreement or endpoint"
    )

    @router.post(
        "",
        status_code=201,
        response_model=EndpointCreated,
        summary="Register a webhook endpoint for the agreement (the secret is shown once, in this answer)",
        responses=problem_responses(who, {404: missing, 422: _REFUSED_URL}),
    )
    async def create_endpoint(
        agreement_id: uuid.UUID,
        body: EndpointCreate,
        session: SessionDep,
        partner_id: Owner,
        settings: SettingsDep,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> JSONResponse:
        scope = f"{_CREATE_SCOPE}:{face}:{agreement_id}"
        with _endpoint_errors():
            async with session.begin():
                if stored := await claim_request(session, scope, idempotency_key, body):
                    return stored.to_response()
                agreement = await _agreement(session, agreement_id, partner_id)
                created = await webhooks.create_endpoint(session, settings.url_policy(), agreement, body)
                headers = {"Location": f"{base.format(agreement_id=agreement_id)}/{created.id}"}
                headers["ETag"] = etag(created.version)
                public = created.model_dump(mode="json")
                if idempotency_key is not None:
                    # A replay answers without the secret: it is shown once.
                    await remember(
                        session,
                        scope,
                        idempotency_key,
                        status_code=201,
                        body=public | {"secret": None},
                        headers=headers,
                    )
        return JSONResponse(public, status_code=201, headers=headers)

    @router.get(
        "",
        response_model=EndpointsPublic,
        summary="The agreement's webhook endpoints (oldest first)",
        responses=problem_responses(who, {404: missing}),
    )
    async def list_endpoints(
        agreement_id: uuid.UUID,
        session: SessionDep,
        partner_id: Owner,
        limit: LimitParam = DEFAULT_LIMIT,
        cursor: CursorParam = None,
    ) -> Any:
        with app_errors():
            await _agreement(session, agreement_id, partner_id)
            return await webhooks.list_endpoints(session, agreement_id, limit=limit, cursor=cursor)

    @router.get(
        "/{endpoint_id}",
        response_model=EndpointPublic,
        summary="A webhook endpoint (never its secret)",
        responses=problem_responses(who, {404: missing}),
    )
    async def get_endpoint(
        agreement_id: uuid.UUID, endpoint_id: uuid.UUID, session: SessionDep, partner_id: Owner, response: Response
    ) -> Any:
        with app_errors():
            await _agreement(session, agreement_id, partner_id)
            row = await webhooks.get_endpoint(session, agreement_id, endpoint_id)
        response.headers["ETag"] = etag(row.version)
        return EndpointPublic.from_row(row)

    @router.patch(
        "/{endpoint_id}",
        response_model=EndpointPublic,
        summary="Change a webhook endpoint's URL, event-type filter or limits (If-Match required)",
        responses=problem_responses(who, {404: missing, 422: _REFUSED_URL}),
    )
    async def update_endpoint(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        body: EndpointPatch,
        session: SessionDep,
        partner_id: Owner,
        settings: SettingsDep,
        if_match: RequiredIfMatchHeader,
    ) -> JSONResponse:
        with _endpoint_errors():
            async with session.begin():
                agreement = await _agreement(session, agreement_id, partner_id)
                row = await webhooks.get_endpoint(session, agreement_id, endpoint_id, for_update=True)
                check_if_match(if_match, row.version, required=True, what="endpoint")
                updated = await webhooks.update_endpoint(
                    session, settings.url_policy(), agreement, row, body.model_dump(exclude_unset=True)
                )
        return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})

    @router.delete(
        "/{endpoint_id}",
        status_code=204,
        summary="Remove a webhook endpoint and what is queued for it (If-Match required)",
        responses=problem_responses(who, {404: missing}),
    )
    async def delete_endpoint(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        session: SessionDep,
        partner_id: Owner,
        if_match: RequiredIfMatchHeader,
    ) -> Response:
        with app_errors():
            async with session.begin():
                await _agreement(session, agreement_id, partner_id)
                row = await webhooks.get_endpoint(session, agreement_id, endpoint_id, for_update=True)
                check_if_match(if_match, row.version, required=True, what="endpoint")
                await webhooks.delete_endpoint(session, row)
        return Response(status_code=204)

    def action_route(action: Literal["enable", "disable"], summary: str) -> None:
        @router.post(
            f"/{{endpoint_id}}/{action}",
            response_model=EndpointPublic,
            summary=summary,
            responses=problem_responses(who, {404: missing, 409: ILLEGAL_TRANSITION}),
            name=f"{action}_endpoint",
        )
        async def act(
            agreement_id: uuid.UUID,
            endpoint_id: uuid.UUID,
            session: SessionDep,
            partner_id: Owner,
            if_match: RequiredIfMatchHeader,
        ) -> JSONResponse:
            with app_errors():
                async with session.begin():
                    await _agreement(session, agreement_id, partner_id)
                    row = await webhooks.get_endpoint(session, agreement_id, endpoint_id, for_update=True)
                    check_if_match(if_match, row.version, required=True, what="endpoint")
                    changed = await webhooks.change_endpoint_status(session, row, action)
            return JSONResponse(changed.model_dump(mode="json"), headers={"ETag": etag(changed.version)})

    action_route("enable", "Enable a disabled endpoint: queued messages flow again (If-Match required)")
    action_route("disable", "Disable an endpoint: nothing is pushed to it until enabled (If-Match required)")

    @router.post(
        "/{endpoint_id}/rotate-secret",
        response_model=EndpointSecret,
        summary="Rotate the signing secret: the new one is shown once; the old one signs beside it for 24 h",
        responses=problem_responses(who, {404: missing}),
    )
    async def rotate_secret(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        session: SessionDep,
        partner_id: Owner,
        settings: SettingsDep,
        if_match: RequiredIfMatchHeader,
    ) -> JSONResponse:
        with app_errors():
            async with session.begin():
                await _agreement(session, agreement_id, partner_id)
                row = await webhooks.get_endpoint(session, agreement_id, endpoint_id, for_update=True)
                check_if_match(if_match, row.version, required=True, what="endpoint")
                rotated = await webhooks.rotate_endpoint_secret(
                    session, row, timedelta(hours=settings.webhook_secret_overlap_hours)
                )
        return JSONResponse(rotated.model_dump(mode="json"), headers={"ETag": etag(rotated.version)})

    @router.get(
        "/{endpoint_id}/messages",
        response_model=MessagesPublic,
        summary="Deliveries to the endpoint, newest first: one message per record",
        responses=problem_responses(who, {404: missing}),
    )
    async def list_messages(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        session: SessionDep,
        partner_id: Owner,
        status: MessageStatus | None = None,
        limit: LimitParam = DEFAULT_LIMIT,
        cursor: CursorParam = None,
    ) -> Any:
        with app_errors():
            await _agreement(session, agreement_id, partner_id)
            await webhooks.get_endpoint(session, agreement_id, endpoint_id)
            return await webhooks.list_messages(session, endpoint_id, status=status, limit=limit, cursor=cursor)

    @router.get(
        "/{endpoint_id}/attempts",
        response_model=AttemptsPublic,
        summary="The delivery log: every attempt with status code, latency and response excerpt, newest first",
        responses=problem_responses(who, {404: missing}),
    )
    async def list_attempts(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        session: SessionDep,
        partner_id: Owner,
        message_id: _MessageIdFilter = None,
        limit: LimitParam = DEFAULT_LIMIT,
        cursor: CursorParam = None,
    ) -> Any:
        with app_errors():
            await _agreement(session, agreement_id, partner_id)
            await webhooks.get_endpoint(session, agreement_id, endpoint_id)
            return await webhooks.list_attempts(session, endpoint_id, message_id=message_id, limit=limit, cursor=cursor)

    @router.post(
        "/{endpoint_id}/messages/{message_id}/redeliver",
        status_code=202,
        response_model=MessagePublic,
        summary="Send one finished message again, now (409 while it is still queued)",
        responses=problem_responses(who, {404: "No such agreement, endpoint or message", 409: ILLEGAL_TRANSITION}),
    )
    async def redeliver_message(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        message_id: _MessageId,
        session: SessionDep,
        partner_id: Owner,
    ) -> Any:
        with app_errors():
            async with session.begin():
                await _agreement(session, agreement_id, partner_id)
                await webhooks.get_endpoint(session, agreement_id, endpoint_id)
                return await webhooks.redeliver(session, endpoint_id, message_id)

    @router.post(
        "/{endpoint_id}/redeliver",
        status_code=202,
        response_model=RedeliveryQueued,
        summary="Send again every finished message created since a time",
        responses=problem_responses(who, {404: missing}),
    )
    async def redeliver_since(
        agreement_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        body: RedeliverSince,
        session: SessionDep,
        partner_id: Owner,
    ) -> Any:
        with app_errors():
            async with session.begin():
                await _agreement(session, agreement_id, partner_id)
                await webhooks.get_endpoint(session, agreement_id, endpoint_id)
                return RedeliveryQueued(queued=await webhooks.redeliver_since(session, endpoint_id, body.since))


staff_router = APIRouter(
    prefix="/api/v1/sharing/agreements/{agreement_id}/endpoints",
    tags=["sharing: webhooks"],
    dependencies=[RequireJson],
)
partner_router = APIRouter(
    prefix="/partner/v1/agreements/{agreement_id}/endpoints", tags=["partner"], dependencies=[RequireJson]
)
_routes(staff_router, "staff", _no_partner)
_routes(partner_router, "partner", _partner)
