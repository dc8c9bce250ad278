"""The Relacja API gateway: the only public HTTP entry of the suite.

Map of the package:

    settings.py       GatewaySettings: RELACJA_GATEWAY_* (secret, JWKS, upstreams, limits, CORS)
    routes.py         the route table: path prefix → service → scope per method class, timeout
    auth.py           Principal, the Authenticator protocol, JWT bearer tokens, scope checks
    jwks.py           the identity provider's keys (RS256), cached and refreshed
    ratelimit.py      token buckets per caller; RateLimit / RateLimit-Policy headers
    breaker.py        the circuit breaker state machine (pure, injected clock)
    retries.py        which calls are retried; retry budget and jittered backoff (pure)
    upstreams.py      one call to a service: breaker, retries, timeout, metrics
    headers.py        hop-by-hop filtering, identity and forwarding headers
    proxy.py          the shared httpx client and streaming forwarding
    transport.py      the aiohttp transport under that client (httpcore's pool was the bottleneck)
    customer360.py    GET /api/v1/customers/{id}/360, composed from several services
    export.py         GET /api/v1/customers/{id}/export: the customers service's, + the disclosures
    openapi.py        merging the services' OpenAPI documents into one (pure) and its cache
    docs.py           /openapi.json, /docs (Swagger UI, served offline), /asyncapi.json, /docs/events
    partner_docs.py   /partner/openapi.json, /partner/docs: the partner API, its records and webhooks
    partners.py       partner API keys, checked by the sharing service on every call
    catalogue.py      the event catalogue: the AsyncAPI document bundled, and as HTML (pure)
    dependencies.py   MatchedRoute, CurrentPrincipal, RateLimited, UpstreamsDep, Settings
    app.py            create_app(): middleware, /healthz /readyz /metrics, the routes
    main.py           the uvicorn entry: relacja_gateway.main:app
    tokens.py         mint_token() and a CLI that prints a token for local use
                      (not re-exported here: ``python -m relacja_gateway.tokens`` must not
                      find the module already imported by its own package)
"""

from .app import create_app
from .auth import Principal
from .settings import GatewaySettings

__all__ = ["GatewaySettings", "Principal", "create_app"]
