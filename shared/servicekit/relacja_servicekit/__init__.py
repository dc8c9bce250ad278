"""What every Relacja HTTP service is made of.

Map of the package:

    settings.py       ServiceSettings: one pydantic-settings class per service, one env prefix each
    db.py             Database: the async engine and session factory; SessionDep for routes
    logging.py        JSON structured logs carrying the request id
    context.py        request id and trace context of the current request
    problems.py       RFC 9457 problem details: the Problem exception and every error handler
    middleware.py     request context + access log + metrics, and the request body size limit
    validation.py     415 for non-JSON bodies, 400 for unknown query parameters, 422 for NUL / lone surrogates
    etags.py          ETag and If-Match (RFC 9110 strong comparison): etag(), check_if_match(), IfMatchHeader
    openapi.py        problem_responses() for routes; every operation's problem answers declared in OpenAPI
    models.py         RowModel: response models read from SQLAlchemy Core rows
    pagination.py     opaque cursors and the {"items", "next_cursor"} page
    idempotency.py    the Idempotency-Key header: claim_request() / created_response() replay the first answer
    known_customers.py  the customers projection's writes (events and look-up answers), one shape everywhere
    customer_directory.py  read-through: a projection miss asks the customers service once
    freshness.py      GET /api/v1/<service>/read-models/freshness (mounted when a service has consumers)
    health.py         /healthz, /readyz (database and broker), /metrics
    app.py            create_service_app(): wires all of the above plus the relay and consumers
    migrations.py     the Alembic env.py body every service shares
"""

from .app import create_service_app
from .db import Database, SessionDep
from .problems import Problem
from .settings import ServiceSettings

__all__ = ["Database", "Problem", "ServiceSettings", "SessionDep", "create_service_app"]
