"""The suite's documentation, all served by the gateway and none of it from elsewhere.

    /openapi.json          the merged OpenAPI document of the whole staff API (openapi.py);
                           the partner API has its own (partner_docs.py: /partner/docs)
    /docs                  Swagger UI for it, with a link to the event catalogue
    /docs/assets/<file>    Swagger UI's script, stylesheet and icon, from the fastapi-offline
                           wheel (so /docs works on a closed network: FastAPI's default page
                           loads them from a CDN and is blank without the internet)
    /asyncapi.json         the AsyncAPI 3 document of every event, bundled into one file
    /docs/events           the same document as an HTML page (catalogue.py): each event
                           type, its topic, its version and its payload fields

All public: they describe the API, not data. ``/openapi.json?refresh=true`` fetches the
services' documents again at once (rate-limited like any anonymous call), e.g. right after
a deployment. The pages send a Content-Security-Policy that allows nothing but this
origin, so a browser refuses a reference to another host instead of waiting for it.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from relacja_servicekit.problems import Problem

from .catalogue import suite_catalogue
from .dependencies import UpstreamClient, rate_limit_key
from .openapi import OpenApiCache

__all__ = ["ASSETS", "ASSETS_PATH", "SWAGGER_CSP", "router"]

ASSETS_PATH: Final = "/docs/assets"
# file name → media type; the only files served, so no path from a client reaches the disk.
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
_ASSETS_DIR = files("fastapi_offline") / "static"
# The files change only with the installed package: a day of caching spares the 1.5 MB
# script on every visit; a new version of the package comes with a restart anyway.
_ASSET_CACHE_CONTROL = "public, max-age=86400"

# Swagger UI runs an inline bootstrap script and draws its icons from data: URIs; it
# fetches the document and sends "Try it out" calls to this origin only.
SWAGGER_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_CATALOGUE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)

_NAV = (
    '<nav style="font-family: sans-serif; padding: .5em 1em; background: #f3f3f3;">'
    '<a href="/docs/events">Event catalogue (AsyncAPI)</a> · '
    '<a href="/openapi.json">openapi.json</a> · <a href="/asyncapi.json">asyncapi.json</a></nav>'
)
_SWAGGER_ROOT = '<div id="swagger-ui">'

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request, client: UpstreamClient, refresh: bool = False) -> JSONResponse:
    if refresh and request.app.state.rate_limiter is not None:
        decision = request.app.state.rate_limiter.take(rate_limit_key(None, request))
        refresh = decision.allowed
    cache: OpenApiCache = request.app.state.openapi
    return JSONResponse(await cache.get(client, refresh=refresh))


def _swagger_page() -> str:
    response = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Relacja API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        # Swagger UI sends the document's URL to validator.swagger.io by default (a badge
        # image): null turns that off, it would leave this network.
        swagger_ui_parameters={"validatorUrl": None},
    )
    # Starlette types a body as bytes | memoryview (it renders bytes here); bytes() takes both.
    page = bytes(response.body).decode()
    if page.count(_SWAGGER_ROOT) != 1:  # FastAPI changed its template: fail at import, not blank
        raise RuntimeError("FastAPI's Swagger UI page has no single swagger-ui element to put the links above")
    return page.replace(_SWAGGER_ROOT, _NAV + _SWAGGER_ROOT)


_SWAGGER_PAGE: Final = _swagger_page()


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER_PAGE, headers={"Content-Security-Policy": SWAGGER_CSP})


@router.get(ASSETS_PATH + "/{name}", include_in_schema=False)
async def docs_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise Problem(404, detail=f"No documentation asset named {name!r}", type_="not-found")
    return FileResponse(str(_ASSETS_DIR / name), media_type=media_type, headers={"Cache-Control": _ASSET_CACHE_CONTROL})


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi_json() -> Response:
    return Response(suite_catalogue().document_json, media_type="application/json")


@router.get("/docs/events", include_in_schema=False)
async def event_catalogue() -> HTMLResponse:
    return HTMLResponse(suite_catalogue().html, headers={"Content-Security-Policy": _CATALOGUE_CSP})
