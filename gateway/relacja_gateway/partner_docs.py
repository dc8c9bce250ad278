"""The partners' documentation: only what concerns a partner company, served offline.

    /partner/openapi.json   OpenAPI 3.1: the /partner/v1 operations (from the sharing
                            service's document, through openapi.merge_documents with the
                            PARTNER audience), the records partners receive (PartnerEvent:
                            the CloudEvent of a feed page item and of a webhook body, with
                            the payload schema of every event type that can be shared) and
                            the webhook as an OpenAPI ``webhooks`` entry with its headers
    /partner/docs           Swagger UI for that document, from the same local assets as /docs

``partner_gateway_document()`` is the partners' counterpart of the gateway's own OpenAPI
document: the prose (authentication, the feed, the identifiers, how to verify a webhook
signature with the ``standardwebhooks`` library, the retry schedule), the webhook and the
event schemas. The payload schemas come from the contracts' bundled AsyncAPI document
(catalogue.py), under the same component names, so their internal references hold.
Every payload field is optional here: an agreement's allow-list decides which ones a
partner receives.

The staff /openapi.json and /docs leave /partner/v1 out, and these leave /api/v1 out.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from .catalogue import event_entries, suite_catalogue
from .dependencies import UpstreamClient, rate_limit_key
from .docs import ASSETS_PATH, SWAGGER_CSP
from .openapi import OpenApiCache
from .routes import Audience

__all__ = [
    "NOT_SHARED_FIELDS",
    "NOT_SHARED_TYPES",
    "NOTICE_TYPES",
    "PARTNER_DOCS_PATH",
    "PARTNER_OPENAPI_PATH",
    "RETRY_SCHEDULE",
    "SHARED_TOPICS",
    "partner_gateway_document",
    "router",
]

PARTNER_OPENAPI_PATH: Final = "/partner/openapi.json"
PARTNER_DOCS_PATH: Final = "/partner/docs"

# What the sharing service shares (relacja_sharing.app.catalog, fanout): the gateway
# imports no service, so these are restated here and a unit test holds them equal.
#: Topics whose events an agreement can share (the sharing service consumes them).
SHARED_TOPICS: Final = ("relacja.customers", "relacja.orders", "relacja.tickets", "relacja.segmentation")
#: Types on those topics that are never shared as such: consents feed the projection,
#: merges and erasure become notices, and catalogue events concern no customer.
NOT_SHARED_TYPES: Final = frozenset(
    {
        "relacja.orders.product.changed.v1",
        "relacja.customers.consent.granted.v1",
        "relacja.customers.consent.withdrawn.v1",
        "relacja.customers.customer.merged.v1",
        "relacja.customers.customer.erased.v1",
    }
)
#: Payload fields holding a real id: never in any record (the subject is the identifier).
NOT_SHARED_FIELDS: Final = frozenset({"customer_id", "merged_customer_id", "company_id"})
#: The sharing service's own records, with their ``data`` (no personal data).
NOTICE_TYPES: Final[dict[str, tuple[str, dict[str, list[str] | None] | None]]] = {
    "relacja.sharing.consent.withdrawn.v1": (
        "Tombstone: the customer withdrew consent to share with you; stop processing their data.",
        {"reason": ["consent_withdrawn"], "instruction": ["stop_processing"], "purpose": None},
    ),
    "relacja.sharing.customer.erased.v1": (
        "Erasure notice (GDPR Art. 19): the customer's data was erased; erase what you hold about them.",
        {"reason": ["erased"], "instruction": ["erase"]},
    ),
    "relacja.sharing.customer.rectified.v1": (
        "Rectification: the corrected values of the allowed fields that changed (those of "
        "relacja.customers.customer.updated.v1).",
        None,
    ),
}

#: Seconds before each retry of a failed webhook delivery (relacja_webhooks' default
#: RetryPolicy; a unit test holds the two equal), each with ±10 % jitter.
RETRY_SCHEDULE: Final = (5, 300, 1800, 7200, 18000, 36000, 36000)

_EVENT_SCHEMA = "PartnerEvent"

_VERIFY_EXAMPLE = """\
```python
from standardwebhooks import Webhook, WebhookVerificationError

webhook = Webhook("whsec_...")  # the endpoint's signing secret, shown when it was created

def receive(body: bytes, headers: dict[str, str]) -> dict:
    try:
        # checks webhook-signature over "webhook-id.webhook-timestamp.body" and refuses a
        # timestamp more than 5 minutes away; raises on any mismatch
        return webhook.verify(body, headers)
    except WebhookVerificationError:
        raise  # answer 400 and do not process the body
```"""


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _description() -> str:
    schedule = ", ".join(_duration(seconds) for seconds in RETRY_SCHEDULE)
    return f"""\
What a partner company can do with Relacja: pull the records its data-sharing agreements
allow from a feed, receive the same records by webhook, contribute data back (inbound
agreements) and read aggregate reports. Everything here is under `/partner/v1`.

## Authentication

Send `Authorization: Bearer <API key>` (`rpk_…`, shown once when staff create it; several
keys per partner allow rotation, and a revoked key fails on the next request), or an OAuth2
client-credentials JWT carrying your `partner_id` claim. A staff token is refused here
(403). Requests are rate-limited per partner (429 with `Retry-After` and the `RateLimit`
headers). A suspended partner or agreement gets 403 naming the state; a terminated
agreement's feed is 410. Anything that is not yours is 404, as if it did not exist.

## Records

Each record is a CloudEvents 1.0 event in JSON (structured mode), `{_EVENT_SCHEMA}` below:
`type` names the event, `subject` is the customer identifier your agreement gives you (a
pseudonym of your own by default), `data` holds only the fields your agreement allows —
every other field is dropped. When a customer withdraws consent you receive one tombstone
record and nothing more about them; when a customer is erased you receive an erasure notice
(GDPR Art. 19): delete what you hold about them. The feed keeps each customer's records in
order; its cursor is opaque and can be replayed.

## Webhooks

Deliveries follow [Standard Webhooks](https://www.standardwebhooks.com/): the body is the
record, the headers are `webhook-id` (the same on every retry: de-duplicate on it),
`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`; while a secret is rotated, two signatures separated by a space).
Verify with the `standardwebhooks` library rather than by hand:

{_VERIFY_EXAMPLE}

Answer any 2xx within 15 s to acknowledge; redirects are not followed. A failed delivery is
retried after {schedule} (each ±10 % jitter); `Retry-After` on a 429 or 503 is honoured.
A 410 disables the endpoint at once, and an endpoint failing for 5 days is disabled. A
later record for one customer waits while an earlier one is retried, so each customer's
records arrive in order.
"""


def _notice_schema(event_type: str, summary: str, fields: dict[str, list[str] | None] | None) -> dict[str, Any]:
    description = f"`data` of a `{event_type}` record. {summary}"
    if fields is None:  # a rectification carries fields of another type
        return {"type": "object", "description": description}
    properties = {
        name: {"type": "string"} if values is None else {"type": "string", "enum": values}
        for name, values in fields.items()
    }
    return {"type": "object", "description": description, "properties": properties}


def _event_schemas() -> dict[str, Any]:
    """The payload schema of every shareable event type, keyed as in the bundled AsyncAPI
    document, with nothing required (an allow-list may drop any field) and no real ids;
    and the schemas of the sharing service's notices."""
    document = suite_catalogue().document
    schemas = document["components"]["schemas"]
    shared: dict[str, Any] = {}
    for entry in event_entries(document):
        if entry.topic in SHARED_TOPICS and entry.type not in NOT_SHARED_TYPES:
            schema = copy.deepcopy(schemas[entry.key])
            schema.pop("required", None)
            for name in NOT_SHARED_FIELDS:
                schema.get("properties", {}).pop(name, None)
            schema["description"] = f"`data` of a `{entry.type}` record. {entry.summary}".strip()
            shared[entry.key] = schema
    for event_type, (summary, fields) in NOTICE_TYPES.items():
        shared[event_type.replace(".", "_")] = _notice_schema(event_type, summary, fields)
    return shared


def _partner_event(data_schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "One record of a feed or one webhook body: a CloudEvents 1.0 event in JSON (structured mode).",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "Unique per record; equal to `webhook-id` on a webhook"},
            "source": {"type": "string", "description": "The producing part of Relacja"},
            "type": {"type": "string", "description": "The event type, e.g. `relacja.orders.order.placed.v1`"},
            "subject": {"type": "string", "description": "The customer identifier your agreement gives you"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "agreementversion": {
                "type": "integer",
                "description": "The version of your agreement this record was disclosed under (an extension attribute)",
            },
            "data": {
                "description": "Only the fields your agreement allows for this type",
                "anyOf": [{"$ref": f"#/components/schemas/{key}"} for key in sorted(data_schemas)]
                + [{"type": "object"}],
            },
        },
    }


_SIGNATURE_HEADERS = (
    ("webhook-id", "The record's id; the same on every retry, so de-duplicate on it"),
    ("webhook-timestamp", "Seconds since the Unix epoch when this attempt was signed"),
    ("webhook-signature", "`v1,<base64 signature>`, space-separated when two secrets sign during a rotation"),
)


@functools.cache
def _document() -> dict[str, Any]:
    data_schemas = _event_schemas()
    return {
        "info": {"title": "Relacja partner API", "version": "1.0.0", "description": _description()},
        "webhooks": {
            "record": {
                "post": {
                    "summary": "A record delivered to your endpoint",
                    "description": "Sent to each endpoint registered for the agreement whose filter matches the type.",
                    "parameters": [
                        {
                            "name": name,
                            "in": "header",
                            "required": True,
                            "description": text,
                            "schema": {"type": "string"},
                        }
                        for name, text in _SIGNATURE_HEADERS
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{_EVENT_SCHEMA}"}}},
                    },
                    "responses": {
                        "2XX": {"description": "Received: the record is acknowledged"},
                        "410": {"description": "Gone: the endpoint is disabled at once"},
                        "429": {"description": "Slow down: the next attempt honours Retry-After"},
                        "503": {"description": "Unavailable: the next attempt honours Retry-After"},
                    },
                }
            }
        },
        "components": {"schemas": {_EVENT_SCHEMA: _partner_event(data_schemas), **data_schemas}},
    }


def partner_gateway_document() -> dict[str, Any]:
    """A fresh copy (the merge must not share nodes between two documents)."""
    return copy.deepcopy(_document())


router = APIRouter()


@router.get(PARTNER_OPENAPI_PATH, include_in_schema=False)
async def partner_openapi(request: Request, client: UpstreamClient, refresh: bool = False) -> JSONResponse:
    if refresh and request.app.state.rate_limiter is not None:
        refresh = request.app.state.rate_limiter.take(rate_limit_key(None, request)).allowed
    cache: OpenApiCache = request.app.state.openapi
    return JSONResponse(await cache.get(client, refresh=refresh, audience=Audience.PARTNER))


def _swagger_page() -> str:
    response = get_swagger_ui_html(
        openapi_url=PARTNER_OPENAPI_PATH,
        title="Relacja partner API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # it would leave this network (docs.py)
    )
    return bytes(response.body).decode()


_SWAGGER_PAGE: Final = _swagger_page()


@router.get(PARTNER_DOCS_PATH, include_in_schema=False)
async def partner_swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER_PAGE, headers={"Content-Security-Policy": SWAGGER_CSP})
