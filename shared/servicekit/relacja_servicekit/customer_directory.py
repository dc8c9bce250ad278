"""Read-through to the customers service: accept a customer the moment it is committed.

A service that takes a customer id (orders, tickets, and every later one) checks it
against its own projection of the ``relacja.customers`` events, a table with at least
``customer_id``, ``state`` (``active | merged | erased``), ``merged_into`` and
``updated_at`` (see ``known_customers.py``). That projection lags the customers service by the relay and consumer
delay, so a client that creates a customer and uses it in its next call would be
refused. On a *miss* — and only then: the hot path stays one local primary-key read —
the service asks the customers service once and records the answer in its projection:

    require_customer(session, known_customers, directory, customer_id, service="orders")
      ├─ projection row found ─────────────── active → ok; erased / merged → 422
      └─ miss → directory.look_up(id)  GET {customers_url}/api/v1/customers/{id}
           ├─ 200, erased_at null ───────── record "active" (+ external_id) → ok
           ├─ 200, erased_at set ────────── record "erased" → 422 customer-erased
           ├─ 404 ───────────────────────── nothing recorded → 422 unknown-customer
           │                                (never created, or merged away: the merge deletes it)
           └─ timeout / refused / 5xx ───── 503 dependency-unavailable + Retry-After

The answer is inserted with ``ON CONFLICT DO NOTHING`` (``known_customers.record_customer``):
the row a customer event writes wins over it, and the event handlers insert-or-ignore the
registration and overwrite on merge and erasure (``known_customers.project_*``), so the
later events still apply cleanly and idempotently whatever arrives first. A 404 is not recorded: there is no customer to describe, and
ids are minted by the customers service, so nothing can appear under that id later.

Internal calls go straight to the customers service, not through the gateway: the
gateway authenticates the public edge, services trust the internal network (as the
gateway's own calls to services do). One short-lived connection per miss keeps this
free of lifecycle: misses are rare (a customer's first use in this service).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, Request
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from .known_customers import record_customer
from .problems import Problem

__all__ = [
    "CustomerAnswer",
    "CustomerDirectory",
    "CustomerDirectoryDep",
    "CustomerDirectorySettings",
    "customer_answer",
    "require_customer",
    "require_usable_state",
]

State = Literal["active", "erased"]


class CustomerDirectorySettings(BaseSettings):
    """Mixed into the settings of a service that checks customers (``<PREFIX>_CUSTOMERS_URL``)."""

    customers_url: str = Field(
        default="http://127.0.0.1:8101",
        description="Internal base URL of the customers service, asked once when a customer id is not in the projection yet",
    )
    customers_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Longest wait for the customers service on a projection miss"
    )

    @model_validator(mode="after")
    def _customers_url_explicit_in_production(self) -> CustomerDirectorySettings:
        # The default points at a developer's machine; in production it must be configured.
        if getattr(self, "environment", None) == "production" and "customers_url" not in self.model_fields_set:
            raise ValueError("production needs explicit settings: customers_url")
        return self


@dataclass(frozen=True)
class CustomerAnswer:
    """What the customers service said about one id (None from ``look_up`` means: no such customer)."""

    customer_id: uuid.UUID
    state: State
    external_id: str | None = None


def customer_answer(customer_id: uuid.UUID, status: int, body: Any) -> CustomerAnswer | None:
    """Interpret the customers service's answer to ``GET /api/v1/customers/{id}``.

    Raises ``LookupError`` for an answer that says nothing about the customer (5xx, or a
    body that is not a customer): the caller treats it as the dependency being down."""
    if status == 404:
        return None
    if status != 200 or not isinstance(body, dict) or body.get("id") != str(customer_id):
        raise LookupError(f"unexpected answer {status} from the customers service")
    if body.get("erased_at") is not None:
        return CustomerAnswer(customer_id, "erased")
    external_id = body.get("external_id")
    return CustomerAnswer(customer_id, "active", external_id if isinstance(external_id, str) else None)


class CustomerDirectory:
    """The customers service, asked one customer at a time on a projection miss."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        retry_after_seconds: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry_after_seconds = retry_after_seconds
        self._transport = transport  # a MockTransport in unit tests

    @classmethod
    def from_settings(cls, settings: Any) -> CustomerDirectory:
        """From a service's settings: ``CustomerDirectorySettings`` mixed into ``ServiceSettings``."""
        return cls(
            settings.customers_url,
            timeout=settings.customers_timeout_seconds,
            retry_after_seconds=settings.retry_after_seconds,
        )

    async def look_up(self, customer_id: uuid.UUID) -> CustomerAnswer | None:
        """The customer as the customers service has committed it, or None if it has none.

        503 ``dependency-unavailable`` (with ``Retry-After``) when the service cannot say:
        "unknown" would be a wrong answer to a client whose customer exists."""
        url = f"{self.base_url}/api/v1/customers/{customer_id}"
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, transport=self._transport, follow_redirects=False
            ) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            body = response.json() if response.status_code == 200 else None
            return customer_answer(customer_id, response.status_code, body)
        except (httpx.HTTPError, LookupError, ValueError) as exc:
            raise Problem(
                503,
                "Service unavailable",
                "The customers service could not be asked about a customer this service has not heard of yet; nothing was changed. Retry later.",
                type_="dependency-unavailable",
                headers={"Retry-After": str(self.retry_after_seconds)},
            ) from exc


async def _directory(request: Request) -> CustomerDirectory:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hand-off per
    # request (issue 18's py-spy profile of placing an order). Built once per app: it holds
    # only settings (a connection is opened per miss).
    state = request.app.state
    directory: CustomerDirectory | None = getattr(state, "customer_directory", None)
    if directory is None:
        directory = state.customer_directory = CustomerDirectory.from_settings(state.settings)
    return directory


CustomerDirectoryDep = Annotated[CustomerDirectory, Depends(_directory)]


async def require_customer(
    session: AsyncSession,
    table: Table,
    directory: CustomerDirectory,
    customer_id: uuid.UUID,
    *,
    service: str,
    field: str = "body.customer_id",
) -> None:
    """422 unless ``customer_id`` is an active customer; asks ``directory`` only on a miss.

    Runs in the caller's transaction, so a recorded answer commits with the caller's
    change (and a failed request records nothing, which only costs the next one a call)."""
    columns = table.c
    row = (
        await session.execute(select(columns.state, columns.merged_into).where(columns.customer_id == customer_id))
    ).first()
    state: str  # the directory answers "active" or "erased"; the local table also knows "merged"
    if row is None:
        answer = await directory.look_up(customer_id)
        if answer is None:
            raise Problem(
                422,
                "Unknown customer",
                f"The customers service has no customer {customer_id} (never created, or merged into another one).",
                type_="unknown-customer",
                errors=[{"field": field, "message": "no such customer"}],
            )
        await record_customer(session, table, customer_id, answer.state, answer.external_id)
        state, merged_into = answer.state, None
    else:
        state, merged_into = row.state, row.merged_into
    require_usable_state(customer_id, state, merged_into, service=service, field=field)


def require_usable_state(
    customer_id: uuid.UUID, state: str, merged_into: uuid.UUID | None, *, service: str, field: str = "body.customer_id"
) -> None:
    """422 unless ``state`` (a projection row's, or the directory's answer) is ``active``.

    For a caller that read the projection row itself, in a statement that does more (orders
    reads it together with the catalog: one round trip instead of two)."""
    if state == "erased":
        raise Problem(
            422,
            "Customer erased",
            f"Customer {customer_id} was erased; the {service} service takes nothing new for it.",
            type_="customer-erased",
            errors=[{"field": field, "message": "erased"}],
        )
    if state == "merged":
        raise Problem(
            422,
            "Customer merged",
            f"Customer {customer_id} was merged into {merged_into}; use that customer.",
            type_="customer-merged",
            errors=[{"field": field, "message": f"merged into {merged_into}"}],
            extra={"merged_into": str(merged_into)},
        )
