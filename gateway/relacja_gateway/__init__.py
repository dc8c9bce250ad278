"""The Relacja API gateway: the only public HTTP entry of the suite.

Map of the package:

    settings.py       GatewaySettings: RELACJA_GATEWAY_* (secret, upstreams, limits, CORS)
    routes.py         the route table: path prefix → service → scope per method class
    auth.py           Principal, the Authenticator protocol, JWT bearer tokens, scope checks
    headers.py        hop-by-hop filtering, identity and forwarding headers
    proxy.py          the shared httpx client and streaming forwarding, upstream failures
    dependencies.py   MatchedRoute, CurrentPrincipal, UpstreamClient, Settings
    app.py            create_app(): middleware, /healthz /readyz /metrics, the catch-all route
    main.py           the uvicorn entry: relacja_gateway.main:app
    tokens.py         mint_token() and a CLI that prints a token for local use
                      (not re-exported here: ``python -m relacja_gateway.tokens`` must not
                      find the module already imported by its own package)
"""

from .app import create_app
from .auth import Principal
from .settings import GatewaySettings

__all__ = ["GatewaySettings", "Principal", "create_app"]
