"""The read-through's pure parts: what an answer of the customers service means, the
look-up's failure modes (no network: httpx.MockTransport), read-model lag, and the
settings that point each customer-checking service at the customers service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from relacja_devstack import StackConfig
from relacja_devstack.stack import Stack
from relacja_messaging.freshness import SourceFreshness
from relacja_orders.settings import OrdersSettings
from relacja_servicekit import Problem
from relacja_servicekit.customer_directory import CustomerAnswer, CustomerDirectory, customer_answer

CUSTOMER = uuid.uuid4()


def body(**fields: object) -> dict:
    return {"id": str(CUSTOMER), "external_id": None, "erased_at": None, **fields}


def test_an_answer_names_the_customer_and_its_state() -> None:
    assert customer_answer(CUSTOMER, 200, body(external_id="crm-7")) == CustomerAnswer(CUSTOMER, "active", "crm-7")
    assert customer_answer(CUSTOMER, 200, body(erased_at="2026-01-01T00:00:00Z")) == CustomerAnswer(CUSTOMER, "erased")
    assert customer_answer(CUSTOMER, 404, None) is None  # never created, or merged away (the merge deletes the row)


@pytest.mark.parametrize(
    "status, answer", [(500, None), (200, {"id": str(uuid.uuid4())}), (200, ["not", "a", "customer"]), (301, None)]
)
def test_an_answer_that_says_nothing_about_the_customer_is_an_error(status: int, answer: object) -> None:
    with pytest.raises(LookupError):
        customer_answer(CUSTOMER, status, answer)


def directory(handler) -> CustomerDirectory:
    return CustomerDirectory(
        "http://customers.internal/", timeout=0.5, retry_after_seconds=7, transport=httpx.MockTransport(handler)
    )


async def test_the_look_up_asks_the_customer_by_id_once() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=body())

    assert await directory(handler).look_up(CUSTOMER) == CustomerAnswer(CUSTOMER, "active")
    assert seen == [f"http://customers.internal/api/v1/customers/{CUSTOMER}"]


async def test_a_missing_customer_is_none() -> None:
    answer = await directory(
        lambda request: httpx.Response(404, json={"type": "urn:relacja:problem:not-found"})
    ).look_up(CUSTOMER)
    assert answer is None


@pytest.mark.parametrize("failure", ["refused", "timeout", "server error", "not json"])
async def test_an_unreachable_or_broken_customers_service_is_503_with_retry_after(failure: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if failure == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "server error":
            return httpx.Response(503)
        return httpx.Response(200, content=b"<html>")

    with pytest.raises(Problem) as raised:
        await directory(handler).look_up(CUSTOMER)
    assert raised.value.status == 503 and raised.value.type.endswith("dependency-unavailable")
    assert raised.value.headers == {"Retry-After": "7"}


def test_lag_is_how_far_the_last_applied_event_trailed_its_source() -> None:
    now = datetime.now(UTC)
    assert SourceFreshness("orders.customers", "relacja.customers", now - timedelta(seconds=3), now).lag_seconds == 3
    assert SourceFreshness("orders.customers", "relacja.customers", None, None).lag_seconds is None
    # Producer clocks may run ahead of ours: a lag is never negative.
    assert SourceFreshness("orders.customers", "relacja.customers", now + timedelta(seconds=1), now).lag_seconds == 0


def test_production_needs_the_customers_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELACJA_ORDERS_DATABASE_URL", "postgresql+asyncpg://orders@db/relacja_orders")
    monkeypatch.setenv("RELACJA_ORDERS_KAFKA_BOOTSTRAP", "kafka:9092")
    with pytest.raises(ValueError, match="customers_url"):
        OrdersSettings(environment="production")
    assert (
        OrdersSettings(environment="production", customers_url="http://customers:8000").customers_url
        == "http://customers:8000"
    )


def test_the_local_stack_points_orders_and_tickets_at_the_customers_service() -> None:
    config = StackConfig.for_profile("test")
    stack = Stack(config)
    for name in ("orders", "tickets"):
        env = stack._service_env(config.service(name))
        assert env[f"RELACJA_{name.upper()}_CUSTOMERS_URL"] == config.service_url("customers")
    assert not any(key.endswith("_CUSTOMERS_URL") for key in stack._service_env(config.service("churn")))
