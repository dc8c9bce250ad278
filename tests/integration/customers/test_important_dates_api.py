"""Important dates through HTTP against the real PostgreSQL: CRUD, bad input, the window query
(New Year wrap, 29 February, limits, cursor paging) and route order before ``/{customer_id}``."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from .support import all_pages, new_customer, post_created


async def add_date(api: httpx.AsyncClient, customer_id: str, **body: object) -> dict:
    return await post_created(api, f"/api/v1/customers/{customer_id}/important-dates", body)


async def window(api: httpx.AsyncClient, first: str, last: str, **params: object) -> list[dict]:
    """Every occurrence in the window, walking all pages."""
    return await all_pages(
        api, "/api/v1/customers/important-dates", {"from": first, "to": last, "limit": 100, **params}
    )


def mine(items: list[dict], customer_id: str) -> list[tuple[str, str]]:
    return [
        (item["occurs_on"], item["important_date"]["label"])
        for item in items
        if item["important_date"]["customer_id"] == customer_id
    ]


async def test_create_read_update_delete(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    created = await api.post(
        f"/api/v1/customers/{customer_id}/important-dates",
        json={"kind": "birthday", "month": 5, "day": 3, "year": 1990},
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert created.headers["location"] == f"/api/v1/customers/{customer_id}/important-dates/{item['id']}"
    assert created.headers["etag"] == '"1"'
    assert {k: item[k] for k in ("customer_id", "kind", "month", "day", "year", "label")} == {
        "customer_id": customer_id,
        "kind": "birthday",
        "month": 5,
        "day": 3,
        "year": 1990,
        "label": None,
    }
    row = await db.fetchrow(
        "SELECT customer_id, month, day, year FROM important_dates WHERE id = $1", uuid.UUID(item["id"])
    )
    assert row is not None
    assert (str(row["customer_id"]), row["month"], row["day"], row["year"]) == (customer_id, 5, 3, 1990)

    url = f"/api/v1/customers/{customer_id}/important-dates/{item['id']}"
    fetched = await api.get(url)
    assert fetched.status_code == 200 and fetched.json() == item

    listed = await api.get(f"/api/v1/customers/{customer_id}/important-dates")
    assert listed.status_code == 200 and [i["id"] for i in listed.json()["items"]] == [item["id"]]

    patched = await api.patch(url, json={"day": 4, "label": "Urodziny"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["day"], patched.json()["label"], patched.headers["etag"]) == (4, "Urodziny", '"2"')

    stale = await api.patch(url, json={"day": 5}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["errors"][0]["field"] == "header.If-Match"
    assert await db.fetchval("SELECT day FROM important_dates WHERE id = $1", uuid.UUID(item["id"])) == 4

    missing = await api.patch(url, json={"day": 5})
    assert missing.status_code == 428 and missing.json()["errors"][0]["field"] == "header.If-Match"
    assert (
        await api.patch(url, json={"day": 5}, headers={"If-Match": 'W/"2"'})
    ).status_code == 412  # weak never matches
    assert (await api.delete(url, headers={"If-Match": '"1"'})).status_code == 412
    assert (await api.delete(url)).status_code == 204
    assert (await api.get(url)).status_code == 404
    assert (await api.delete(url)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM important_dates WHERE id = $1", uuid.UUID(item["id"])) == 0


async def test_unknown_customer_is_404(api: httpx.AsyncClient) -> None:
    unknown = uuid.uuid4()
    response = await api.post(
        f"/api/v1/customers/{unknown}/important-dates", json={"kind": "name_day", "month": 1, "day": 1}
    )
    assert response.status_code == 404
    assert response.json()["type"] == "urn:relacja:problem:not-found"
    assert (await api.get(f"/api/v1/customers/{unknown}/important-dates")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "birthday", "month": 2, "day": 30}, "body.day"),
        ({"kind": "birthday", "month": 4, "day": 31}, "body.day"),
        ({"kind": "birthday", "month": 13, "day": 1}, "body.month"),
        ({"kind": "birthday", "month": 2, "day": 29, "year": 2023}, "body.year"),
        ({"kind": "birthday", "month": 1, "day": 1, "year": 2999}, "body.year"),
        ({"kind": "custom", "month": 1, "day": 1}, "body.label"),
        ({"kind": "wedding", "month": 1, "day": 1}, "body.kind"),
        ({"kind": "birthday", "month": "May", "day": 1}, "body.month"),
        ({"kind": "birthday", "month": 5, "day": 1, "colour": "red"}, "body.colour"),
        ({"kind": "birthday", "day": 1}, "body.month"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, db: asyncpg.Connection, body: dict, field: str
) -> None:
    customer_id = await new_customer(api)
    response = await api.post(f"/api/v1/customers/{customer_id}/important-dates", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in problem["errors"]]
    assert await db.fetchval("SELECT count(*) FROM important_dates WHERE customer_id = $1", uuid.UUID(customer_id)) == 0


async def test_patch_to_an_impossible_date_is_422_and_changes_nothing(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    item = await add_date(api, customer_id, kind="birthday", month=2, day=29)
    url = f"/api/v1/customers/{customer_id}/important-dates/{item['id']}"
    response = await api.patch(url, json={"year": 2023}, headers={"If-Match": '"1"'})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.year"
    response = await api.patch(url, json={"month": None}, headers={"If-Match": '"1"'})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.month"
    assert (await api.get(url)).json() == item


async def test_idempotent_create(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/important-dates"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"kind": "contract_anniversary", "month": 9, "day": 1, "year": 2015}
    first = await api.post(url, json=body, headers=key)
    again = await api.post(url, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM important_dates WHERE customer_id = $1", uuid.UUID(customer_id)) == 1
    other = await api.post(url, json=body | {"day": 2}, headers=key)
    assert other.status_code == 422 and other.json()["type"] == "urn:relacja:problem:idempotency-key-reused"


async def test_window_wraps_new_year(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    for month, day, label in [
        (12, 24, "wigilia"),
        (1, 3, "january"),
        (12, 19, "before"),
        (1, 11, "after"),
        (6, 1, "june"),
    ]:
        await add_date(api, customer_id, kind="custom", month=month, day=day, label=label)
    await add_date(api, customer_id, kind="birthday", month=12, day=31, year=1980, label="sylwester")

    items = await window(api, "2026-12-20", "2027-01-10")
    assert mine(items, customer_id) == [
        ("2026-12-24", "wigilia"),
        ("2026-12-31", "sylwester"),
        ("2027-01-03", "january"),
    ]
    birthday = next(
        i
        for i in items
        if i["important_date"]["label"] == "sylwester" and i["important_date"]["customer_id"] == customer_id
    )
    assert birthday["years"] == 46
    assert [i["occurs_on"] for i in items] == sorted(i["occurs_on"] for i in items)  # soonest first, across everybody


async def test_window_observes_29_february_on_28_february_in_common_years(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    await add_date(api, customer_id, kind="birthday", month=2, day=29, year=2000, label="leapling")
    await add_date(api, customer_id, kind="custom", month=2, day=28, label="28th")
    await add_date(api, customer_id, kind="custom", month=3, day=1, label="1st")

    assert mine(await window(api, "2027-02-28", "2027-02-28"), customer_id) == [
        ("2027-02-28", "28th"),
        ("2027-02-28", "leapling"),
    ]
    assert mine(await window(api, "2027-03-01", "2027-03-05"), customer_id) == [("2027-03-01", "1st")]
    assert mine(await window(api, "2028-02-28", "2028-03-01"), customer_id) == [
        ("2028-02-28", "28th"),
        ("2028-02-29", "leapling"),
        ("2028-03-01", "1st"),
    ]
    leap = [
        i for i in await window(api, "2028-02-29", "2028-02-29") if i["important_date"]["customer_id"] == customer_id
    ]
    assert leap[0]["years"] == 28


async def test_a_366_day_window_lists_a_date_twice_and_a_longer_one_is_rejected(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    await add_date(api, customer_id, kind="name_day", month=1, day=1, label="nowy rok")
    assert mine(await window(api, "2025-01-01", "2026-01-01"), customer_id) == [
        ("2025-01-01", "nowy rok"),
        ("2026-01-01", "nowy rok"),
    ]

    too_long = await api.get("/api/v1/customers/important-dates", params={"from": "2025-01-01", "to": "2026-01-02"})
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "query.to"
    reversed_ = await api.get("/api/v1/customers/important-dates", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert reversed_.status_code == 400 and reversed_.json()["errors"][0]["field"] == "query.to"
    missing = await api.get("/api/v1/customers/important-dates", params={"from": "2025-02-01"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "query.to"
    malformed = await api.get("/api/v1/customers/important-dates", params={"from": "2025-02-30", "to": "2025-03-01"})
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "query.from"
    unknown = await api.get(
        "/api/v1/customers/important-dates", params={"from": "2025-01-01", "to": "2025-01-02", "form": "x"}
    )
    assert unknown.status_code == 400


async def test_window_pages_are_complete_and_ordered(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    days = [(12, 30), (12, 30), (12, 31), (1, 1), (1, 2), (2, 29)]
    for n, (month, day) in enumerate(days):
        await add_date(api, customer_id, kind="custom", month=month, day=day, label=f"d{n}")
    seen: list[dict] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"from": "2026-12-30", "to": "2027-02-28", "limit": 1, "kind": "custom"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/api/v1/customers/important-dates", params=params)).json()
        pages += 1
        assert len(page["items"]) <= 1
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages >= len(days)
    ids = [i["important_date"]["id"] for i in seen]
    assert len(ids) == len(set(ids))  # no item twice across pages
    own = mine(seen, customer_id)
    assert [occurs for occurs, _ in own] == [
        "2026-12-30",
        "2026-12-30",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
        "2027-02-28",
    ]
    assert sorted(label for _, label in own[:2]) == ["d0", "d1"] and [label for _, label in own[2:]] == [
        "d2",
        "d3",
        "d4",
        "d5",
    ]
    assert all(i["important_date"]["kind"] == "custom" for i in seen)


async def test_a_cursor_of_another_window_is_rejected(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    for day in (1, 2):
        await add_date(api, customer_id, kind="custom", month=7, day=day, label=f"july {day}")
    first = (
        await api.get(
            "/api/v1/customers/important-dates", params={"from": "2026-07-01", "to": "2026-07-02", "limit": 1}
        )
    ).json()
    assert first["next_cursor"]
    other = await api.get(
        "/api/v1/customers/important-dates",
        params={"from": "2026-07-01", "to": "2026-07-03", "limit": 1, "cursor": first["next_cursor"]},
    )
    assert other.status_code == 400 and other.json()["type"] == "urn:relacja:problem:invalid-cursor"
