"""Partner API keys: the gateway asks the sharing service about each key, on every call.

    Authorization: Bearer rpk_<lookup>_<secret>
      → POST {sharing}/internal/v1/partner-credentials/introspect  {"api_key": "<the key>"}
          200 {"partner_id", "key_id", "partner_status"}   Principal(partner_id, kind="partner")
          401 problem (unknown, revoked or malformed key)  401 invalid_token
          circuit open, cannot connect, 503 answered       503 upstream-unavailable + Retry-After
          no answer in time                                504 upstream-timeout + Retry-After
          any other answer                                 502 bad-gateway
      the sharing service not deployed here                503 service-not-deployed

Only the sharing service holds the keys' hashes, so it alone can say whose a key is. No
answer is cached, positive or negative: a key revoked a moment ago must fail on the very
next request (the issue asks for that), and the check is one indexed lookup there. A
suspended partner is still authenticated — it is who it says it is — and the sharing
service answers its calls with 403 naming the state, as it does for a suspended agreement.

The key never reaches the sharing service's partner routes: the gateway drops
Authorization (headers.py) and sends the partner id in X-Relacja-Partner-Id instead.
/internal/... is never routed by the gateway (routes.py), so a client cannot call the
introspection itself.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

import httpx
from starlette.datastructures import Headers

from relacja_servicekit.context import current_request_id, current_traceparent
from relacja_servicekit.problems import Problem

from .auth import REALM, Principal, invalid_token
from .upstreams import CircuitOpenError, Upstreams, problem_for

__all__ = ["API_KEY_PREFIX", "INTROSPECTION_PATH", "PARTNER_SERVICE", "PartnerApiKeyAuthenticator", "principal_of"]

API_KEY_PREFIX = "rpk_"
INTROSPECTION_PATH = "/internal/v1/partner-credentials/introspect"
PARTNER_SERVICE = "sharing"

# Keys the sharing service issues are short URL-safe strings; anything else after the
# prefix cannot be one, so it is refused here without a call.
_API_KEY = re.compile(r"^rpk_[A-Za-z0-9_-]{1,196}$")  # at most 200, as the service reads them
_STATUSES = frozenset({"active", "suspended"})


def principal_of(answer: object) -> Principal:
    """The principal for the sharing service's 200 answer; ValueError if it is not one."""
    if not isinstance(answer, dict) or answer.get("partner_status") not in _STATUSES:
        raise ValueError("not an introspection answer")
    partner_id = answer.get("partner_id")
    if not isinstance(partner_id, str):
        raise ValueError("no partner_id")
    return Principal(id=str(uuid.UUID(partner_id)), kind="partner", scopes=frozenset())


def _retry_after(response: httpx.Response, default: int) -> str:
    value = response.headers.get("retry-after", "")
    return value if value.isdigit() else str(default)


class PartnerApiKeyAuthenticator:
    """Bearer tokens that start with ``rpk_`` are partner API keys; others are left to the
    next authenticator (a JWT never starts so: its first part is base64url JSON, ``eyJ``)."""

    def __init__(self, upstreams: Callable[[], Upstreams], *, timeout_seconds: float) -> None:
        # A getter: the upstream client exists only once the app's lifespan has started.
        self._upstreams = upstreams
        self._timeout = httpx.Timeout(timeout_seconds).as_dict()
        self.challenge = f'Bearer realm="{REALM}"'

    async def authenticate(self, headers: Headers) -> Principal | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(API_KEY_PREFIX):
            return None
        if not _API_KEY.match(token):
            raise invalid_token("The API key is malformed")
        return await self._introspect(token)

    async def _introspect(self, api_key: str) -> Principal:
        upstreams = self._upstreams()
        retry_after = upstreams.settings.retry_after_seconds
        base_url = upstreams.settings.upstreams.get(PARTNER_SERVICE)
        if base_url is None:
            raise Problem(
                503,
                "Service not deployed",
                "Partner API keys are checked by the sharing service, which is not deployed here.",
                type_="service-not-deployed",
            )
        headers = {"accept": "application/json"}
        if (request_id := current_request_id.get()) is not None:
            headers["x-request-id"] = request_id
        if (traceparent := current_traceparent.get()) is not None:
            headers["traceparent"] = traceparent

        def build() -> httpx.Request:
            return upstreams.client.build_request(
                "POST",
                base_url + INTROSPECTION_PATH,
                json={"api_key": api_key},
                headers=headers,
                extensions={"timeout": self._timeout},
            )

        try:
            # Retryable: the introspection changes nothing but a throttled last-used time.
            response, _ = await upstreams.send(PARTNER_SERVICE, build, retryable=True)
        except (CircuitOpenError, httpx.TransportError) as exc:
            raise problem_for(exc, PARTNER_SERVICE, retry_after) from None
        try:
            body = await response.aread()
        except httpx.TransportError as exc:
            raise problem_for(exc, PARTNER_SERVICE, retry_after) from None
        finally:
            await response.aclose()
        if response.status_code == 401:
            raise invalid_token("The API key is unknown or revoked")
        if response.status_code in (429, 503):
            raise Problem(
                503,
                "Service unavailable",
                "The sharing service cannot check API keys right now; retry later.",
                type_="upstream-unavailable",
                headers={"Retry-After": _retry_after(response, retry_after)},
            )
        if response.status_code == 200:
            try:
                return principal_of(json.loads(body))
            except ValueError:
                pass  # a 200 the gateway cannot read is no login: it falls through to the 502 below
        raise Problem(
            502,
            "Bad gateway",
            "The sharing service sent an invalid answer about the API key.",
            type_="bad-gateway",
        )
