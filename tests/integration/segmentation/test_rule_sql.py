"""Every field and operator of the rule language compiles to SQL that PostgreSQL runs: a
preview of each answers 200 (never a 500), and a few results are checked exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relacja_contracts.events import CustomerRegisteredV1
from relacja_segmentation.domain.rules import FIELDS, OPERATORS

from ...support import eventually
from .conftest import CONSUMED_WITHIN, order_event

SAMPLE = {"integer": 3, "decimal": "12.50", "datetime": "2026-01-01T00:00:00Z"}


def value_for(field, op):
    if op == "is_null":
        return True
    one = field.values[0] if field.type == "enum" else SAMPLE[field.type]
    return [one] if op in ("in", "not_in") else one


CASES = [(name, op) for name, field in FIELDS.items() for op in OPERATORS[field.type]]


@pytest.mark.parametrize(("name", "op"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
async def test_every_field_and_operator_runs(api, name, op) -> None:
    rule = {"not": {"and": [{"field": name, "op": op, "value": value_for(FIELDS[name], op)}, {"tag": "x"}]}}
    response = await api.post("/api/v1/segmentation/segments/preview", json={"rule": rule})
    assert response.status_code == 200, response.text


async def test_previews_count_exactly(api, publish) -> None:
    tag = f"rule-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    customers = [uuid.uuid4() for _ in range(3)]
    for i, customer in enumerate(customers):
        await publish(
            CustomerRegisteredV1(
                customer_id=customer,
                kind="company" if i == 0 else "person",
                display_name="x",
                lifecycle_stage="customer",
                registered_at=now,
                tags=[tag],
            )
        )
    await publish(order_event(customers[1], gross="10.00", placed_at=now - timedelta(days=10)))
    await publish(order_event(customers[2], gross="99.00", placed_at=now - timedelta(days=400)))

    async def count(rule) -> int:
        response = await api.post("/api/v1/segmentation/segments/preview", json={"rule": {"and": [{"tag": tag}, rule]}})
        assert response.status_code == 200, response.text
        return response.json()["count"]

    async def loaded():
        # Registrations and orders travel on different topics: wait for all three tagged
        # profiles (customer 0 registers only) and both buyers' orders.
        return await count({"tag": tag}) == 3 and await count({"field": "purchases", "op": "gte", "value": 1}) == 2

    await eventually(loaded, timeout=CONSUMED_WITHIN)
    assert await count({"field": "kind", "op": "eq", "value": "company"}) == 1
    assert await count({"field": "recency_days", "op": "lte", "value": 30}) == 1
    assert await count({"not": {"field": "recency_days", "op": "lte", "value": 30}}) == 2  # null recency is not ≤ 30
    assert await count({"field": "last_purchase_at", "op": "is_null", "value": True}) == 1
    assert await count({"field": "net_revenue", "op": "in", "value": ["10", "99.00"]}) == 2
    assert (
        await count(
            {
                "or": [
                    {"field": "tenure_days", "op": "gt", "value": 365},
                    {"field": "kind", "op": "ne", "value": "person"},
                ]
            }
        )
        == 2
    )
