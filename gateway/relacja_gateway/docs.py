"""``/openapi.json`` (the merged document of the whole suite) and ``/docs`` (Swagger UI).

Both are public: the document describes the API, not data. ``/docs`` is FastAPI's Swagger
UI page pointed at the merged document; its scripts load from a CDN in the browser.
``?refresh=true`` fetches the services' documents again at once (rate-limited like any
anonymous call), e.g. right after a deployment.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from .dependencies import UpstreamClient, rate_limit_key
from .openapi import OpenApiCache

__all__ = ["router"]

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request, client: UpstreamClient, refresh: bool = False) -> JSONResponse:
    if refresh and request.app.state.rate_limiter is not None:
        decision = request.app.state.rate_limiter.take(rate_limit_key(None, request))
        refresh = decision.allowed
    cache: OpenApiCache = request.app.state.openapi
    return JSONResponse(await cache.get(client, refresh=refresh))


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Relacja API")
