"""Helpers shared by the customers service's integration tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_contracts.topics import CUSTOMERS
from relacja_customers.tables import metadata
from relacja_devstack import Stack

from ...support import eventually, read_topic

CUSTOMERS_PATH = "/api/v1/customers"


def marker(prefix: str = "q") -> str:
    """A made-up word no other test's customer contains (letters only, so it is one search fragment)."""
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:9])


def unique_phone(separator: str = "") -> str:
    """A valid Polish mobile number nobody else in the test database has (600 000 000–699 999 999),
    ``separator`` between the country code and the number."""
    return f"+48{separator}6{uuid.uuid4().int % 10**8:08d}"


async def post_created(api: httpx.AsyncClient, path: str, body: dict, **headers: str) -> dict:
    """POST ``body`` to ``path``; the created resource (asserting 201)."""
    response = await api.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def create(api: httpx.AsyncClient, headers: dict | None = None, **body: object) -> dict:
    """A new customer (kind person unless ``body`` says otherwise)."""
    return await post_created(api, CUSTOMERS_PATH, {"kind": "person", **body}, **(headers or {}))


async def new_customer(api: httpx.AsyncClient, name: str = "Adam Nowak") -> str:
    """The id of a new person called ``name``."""
    return (await create(api, display_name=name))["id"]


async def all_pages(api: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[dict]:
    """Every item of a cursor-paginated list, walking all pages."""
    items: list[dict] = []
    cursor = None
    while True:
        response = await api.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def logged_events(db: asyncpg.Connection, customer_id: str, *event_types: str) -> list[tuple[str, dict]]:
    """The customer's events of ``event_types`` in its event log, oldest first, as (type, payload)."""
    rows = await db.fetch(
        "SELECT event_type, payload FROM customer_event_log WHERE customer_id = $1 AND event_type = ANY($2) ORDER BY id",
        uuid.UUID(customer_id),
        list(event_types),
    )
    return [(row["event_type"], json.loads(row["payload"])) for row in rows]


async def events_about(stack: Stack, customer_id: str, *types: str) -> dict[str, list[dict]]:
    """The payloads of the customer's events on relacja.customers by short type, once every one of ``types`` is there."""

    async def read() -> dict[str, list[dict]] | None:
        records = await read_topic(stack.bootstrap_servers, CUSTOMERS.name, header="ce_subject", values={customer_id})
        found: dict[str, list[dict]] = {}
        for record in records:
            kind = dict(record.headers)["ce_type"].decode().split(".")[-2]
            found.setdefault(kind, []).append(json.loads(record.value))
        return found if set(types) <= set(found) else None

    return await eventually(read, timeout=30)


# One entry of alembic's compare_metadata (typed Any there): a tuple such as ("add_table", table),
# or a list of tuples for the changes to one column.
_Diff = tuple[Any, ...] | list[tuple[Any, ...]]


def _table_of(diff: _Diff, tables: set[str]) -> str | None:
    change = diff[0] if isinstance(diff, list) else diff  # column changes come as lists of tuples
    for part in change[1:]:
        if isinstance(part, str) and part in tables:
            return part
        table = getattr(part, "table", None)
        name = getattr(part, "name", None) if table is None else table.name
        if name in tables:
            return name
    return None


async def schema_drift(stack: Stack, tables: set[str]) -> list:
    """Where the migrated database differs from the models for ``tables`` (column comments,
    which live in the models only as for every table of this service, left out)."""
    engine = create_async_engine(stack.database_url("customers"))
    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    return [
        d for d in diffs if _table_of(d, tables) in tables and not (isinstance(d, list) and d[0][0] == "modify_comment")
    ]
