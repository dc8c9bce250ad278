"""Schemathesis hooks of the conformance test: the generated requests behave as a correct client.

A client sends a new ``Idempotency-Key`` with every new request (draft-ietf-httpapi-
idempotency-key-header §2); the same key with another body is a client bug the services
rightly answer with 422 ``idempotency-key-reused``. Generated cases reuse the few short
keys hypothesis likes ("0", "00") across different bodies, so every key the schema admits
(1–255 characters) is replaced by a fresh UUID before the call. A key that breaks the
schema is left alone: it is what a negative case tests.

A case that leaves out a required header (the coverage phase's "missing parameter") is not
touched: schemathesis re-validates a case a hook changed, finds every *declared* parameter
valid and sends it as a positive case — with the run's ``Authorization`` header put back,
so "missing Authorization" cases were sent authorised (seen with ``--checks all``: 25 false
"missing required header accepted" findings).

Operator re-drives of dead letters choose no real letter (``_redrive_nothing_real``).
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

_HEADER = "idempotency-key"


def _fresh(headers: dict[str, Any] | None) -> None:
    if not headers:
        return
    for name, value in list(headers.items()):
        if name.lower() == _HEADER and isinstance(value, str) and 1 <= len(value) <= 255:
            headers[name] = str(uuid.uuid4())


def _redrive_nothing_real(case: Any, kwargs: dict[str, Any]) -> None:
    """A re-drive ``since`` a generated time would replay the shared test stack's real dead
    letters (poison events other tests left), which fail again and hold their consumer's
    partition for its retries. A far-future ``since`` is the same valid request that
    chooses no letter; ``event_ids`` are left alone (made-up ids are a 422 the schema
    allows for)."""
    if case.method.upper() != "POST" or not case.path.endswith("/dead-letters/redrive"):
        return
    for body in (case.body, kwargs.get("json")):  # the case and the request already built from it
        if isinstance(body, dict) and isinstance(body.get("since"), str):
            body["since"] = "9999-12-31T00:00:00Z"


def _leaves_out_a_header(case: Any) -> bool:
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    scenario = getattr(data, "scenario", None)
    location = getattr(data, "parameter_location", None)
    return (
        getattr(scenario, "value", scenario) == "missing_parameter" and getattr(location, "value", location) == "header"
    )


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if _leaves_out_a_header(case):
        return
    _fresh(case.headers)
    _fresh(kwargs.get("headers"))
    _redrive_nothing_real(case, kwargs)
