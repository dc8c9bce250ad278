"""List and search of the customer master against the real PostgreSQL: ``?q=`` over
names, e-mails, phones and company names; filters; sorts; keyset cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from .support import all_pages, create, marker


async def everything(api: httpx.AsyncClient, **params: object) -> list[dict]:
    """All pages of a list, walked with small pages so the cursor is exercised."""
    return await all_pages(api, "/api/v1/customers", {"limit": 2, **params})


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


async def test_q_finds_name_fragments_whatever_the_case_and_diacritics(api: httpx.AsyncClient) -> None:
    word = marker()
    anna = await create(api, given_name="Anna", family_name=f"Łęcka{word}")
    jan = await create(api, given_name="Jan", family_name=f"Lecki{word}")
    await create(api, given_name="Piotr", family_name=f"Zieliński{word}")
    assert set(ids(await everything(api, q=f"LECK{word[:3]}"))) == set()  # fragments are contiguous
    assert set(ids(await everything(api, q=word))) >= {anna["id"], jan["id"]}
    assert ids(await everything(api, q=f"anna lęcka{word}")) == [anna["id"]]
    assert ids(await everything(api, q=f"lecka{word}")) == [anna["id"]]
    assert set(ids(await everything(api, q=f"lec {word}"))) == {anna["id"], jan["id"]}


async def test_q_finds_e_mails_phones_and_a_persons_company(api: httpx.AsyncClient) -> None:
    word = marker()
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    company = await create(api, kind="company", legal_name=f"Hurtownia {word}")
    person = await create(
        api, given_name="Ewa", email=f"ewa.{word}@example.com", phone=f"+48 6{digits}", company_id=company["id"]
    )
    assert ids(await everything(api, q=f"ewa.{word}@")) == [person["id"]]
    assert ids(await everything(api, q=f"6{digits[:4]} {digits[4:]}")) == [person["id"]]
    assert ids(await everything(api, q=f"+48 6{digits}")) == [person["id"]]
    assert set(ids(await everything(api, q=f"hurtownia {word}"))) == {company["id"], person["id"]}
    assert ids(await everything(api, q=f"hurtownia {word}", kind="person")) == [person["id"]]
    assert ids(await everything(api, q=f"ewa {word}")) == [person["id"]]  # own name + company name


async def test_filters(api: httpx.AsyncClient) -> None:
    word = marker()
    owner = f"agent-{word}"
    company = await create(api, kind="company", legal_name=f"Firma {word}")
    a = await create(
        api,
        given_name=f"A{word}",
        tags=["vip", "b2b"],
        owner_id=owner,
        lifecycle_stage="customer",
        company_id=company["id"],
    )
    b = await create(
        api, given_name=f"B{word}", tags=["vip"], owner_id=owner, lifecycle_stage="lead", external_id=f"ext-{word}"
    )
    assert set(ids(await everything(api, owner_id=owner))) == {a["id"], b["id"]}
    assert ids(await everything(api, owner_id=owner, tag="b2b")) == [a["id"]]
    assert set(ids(await everything(api, owner_id=owner, tag=["vip"]))) == {a["id"], b["id"]}
    assert ids(await everything(api, owner_id=owner, tag=["vip", "b2b"])) == [a["id"]]
    assert ids(await everything(api, owner_id=owner, lifecycle_stage="lead")) == [b["id"]]
    assert ids(await everything(api, company_id=company["id"])) == [a["id"]]
    assert ids(await everything(api, external_id=f"ext-{word}")) == [b["id"]]
    assert ids(await everything(api, q=word, kind="company")) == [company["id"]]
    created = datetime.fromisoformat(b["created_at"])
    assert ids(await everything(api, owner_id=owner, created_after=created.isoformat())) == [b["id"]]
    assert ids(await everything(api, owner_id=owner, created_before=created.isoformat())) == [a["id"]]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await everything(api, owner_id=owner, created_after=later) == []


async def test_sorts_are_keyset_paginated_without_gaps_or_repeats(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    word = marker()
    names = ["Zenon", "adam", "Ćwik", "Bogdan", "Adam", "Marta", "Ola"]
    created = [await create(api, given_name=name, family_name=word) for name in names]
    by_time = ids(await everything(api, q=word, sort="created_at"))
    assert by_time == ids(created)
    assert ids(await everything(api, q=word)) == list(reversed(ids(created)))  # default -created_at
    by_name = await everything(api, q=word, sort="display_name")
    assert len(by_name) == len(names) and len(set(ids(by_name))) == len(names)
    expected = await db.fetch("SELECT id FROM customers WHERE family_name = $1 ORDER BY display_name, id", word)
    assert ids(by_name) == [str(row["id"]) for row in expected]
    descending = await everything(api, q=word, sort="-display_name")
    assert ids(descending) == list(reversed(ids(by_name)))


async def test_bad_list_parameters_are_400(api: httpx.AsyncClient) -> None:
    page = (await api.get("/api/v1/customers", params={"limit": 1, "sort": "created_at"})).json()
    assert page["next_cursor"]
    for params in (
        {"q": "ab"},
        {"q": "a b"},
        {"sort": "name"},
        {"lifecycle_stage": "vip"},
        {"created_after": "yesterday"},
        {"company_id": "acme"},
        {"colour": "red"},
        {"cursor": page["next_cursor"], "sort": "display_name"},
    ):
        response = await api.get("/api/v1/customers", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/api/v1/customers", params={"q": "ab"})).json()["errors"][0]["field"] == "query.q"


async def test_erased_customers_are_not_listed(api: httpx.AsyncClient) -> None:
    word = marker()
    customer = await create(api, given_name=word)
    assert ids(await everything(api, q=word)) == [customer["id"]]
    assert (await api.post(f"/api/v1/customers/{customer['id']}/erase")).status_code == 200
    assert await everything(api, q=word) == []
