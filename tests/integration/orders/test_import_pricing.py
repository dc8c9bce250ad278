"""The import's SQL pricing (``app.import_pricing``) against the Python rules
(``domain.imports.build_order``) on random plain rows (hypothesis): every amount, every
stored line, and which rows it leaves to Python (unknown customers, rows with errors,
amounts beyond Decimal's exact range) — so the two cannot drift."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relacja_orders.app.import_pricing import STAGE_COLUMNS, price_plain
from relacja_orders.domain.imports import ImportRow, build_order, plain_row

TAG = uuid.uuid4().hex[:8]
CUSTOMERS = [f"pc-{TAG}-{n}" for n in range(3)]  # active
MERGED = f"pc-{TAG}-merged"
SKUS = [f"ps-{TAG}-{n}" for n in range(3)]  # in the catalog; the last one without a category


def _amount(places: int, top: int) -> st.SearchStrategy[str]:
    return st.decimals(min_value=0, max_value=top, places=places).map(lambda d: format(d, "f"))


@st.composite
def plain_rows(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(["PLN", "EUR", "JPY", "KWD"]))
    digits = {"JPY": 0, "KWD": 3}.get(currency, 2)
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        line: dict[str, Any] = {
            "sku": draw(st.sampled_from([*SKUS, f"unknown-{TAG}"])),
            "quantity": draw(st.integers(1, 50) | st.just(1_000_000)),
            "unit_price": draw(_amount(draw(st.integers(0, 6)), 10**4) | st.integers(0, 10**4)),
        }
        if draw(st.booleans()):
            line["unit_cost"] = draw(_amount(draw(st.integers(0, 4)), 10**4) | st.none())
        if draw(st.booleans()):
            line["discount_amount"] = draw(_amount(draw(st.integers(0, 3)), 200))
        if draw(st.booleans()):
            line["category"] = draw(st.sampled_from(["", "garden", None]))
        lines.append(line)
    gross = sum(
        (
            Decimal(line["quantity"]) * Decimal(line["unit_price"]) - Decimal(line.get("discount_amount", "0"))
            for line in lines
        ),
        Decimal(0),
    )
    tax = draw(_amount(digits, 5000) | st.sampled_from(["0", "-1", "0.0001"]))
    total = max(gross.quantize(Decimal(1).scaleb(-digits)) + Decimal(tax), Decimal(0))
    if draw(st.integers(0, 9)) == 0:
        total = draw(st.decimals(min_value=0, max_value=10**13 - 1, places=draw(st.integers(0, 4))))
    row: dict[str, Any] = {
        "customer_external_id": draw(st.sampled_from([*CUSTOMERS, MERGED, f"nobody-{TAG}"])),
        "placed_at": draw(
            st.sampled_from(["2020-01-01T00:00:00Z", "2021-06-30T23:59:59.123456+02:00", "2019-03-01T12:00:00"])
        ),
        "total_amount": format(total, "f") if draw(st.booleans()) or total != int(total) else int(total),
        "currency": currency,
        "status": draw(st.sampled_from(["delivered", "cancelled", "paid"])),
        "channel": draw(st.sampled_from(["web", "store"])),
        "external_id": f"pe-{TAG}-{uuid.uuid4().hex}",
    }
    empty_lines: bool = draw(st.booleans())  # "lines": [] as well as no key at all
    if lines or empty_lines:
        row["lines"] = lines
    return row


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


async def test_sql_pricing_is_build_order(db: asyncpg.Connection) -> None:
    rows: list[dict[str, Any]] = []

    @settings(max_examples=400, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(plain_rows())
    def collect(row: dict[str, Any]) -> None:
        rows.append(row)

    collect()
    customers = {external_id: uuid.uuid4() for external_id in CUSTOMERS}
    await db.executemany(
        "INSERT INTO known_customers (customer_id, external_id, state) VALUES ($1, $2, $3)",
        [(cid, external_id, "active") for external_id, cid in customers.items()] + [(uuid.uuid4(), MERGED, "merged")],
    )
    catalog = {sku: (uuid.uuid4(), None if n == 2 else f"cat-{n}") for n, sku in enumerate(SKUS)}
    await db.executemany(
        "INSERT INTO products (id, sku, name, category, list_price, currency) VALUES ($1, $2, 'p', $3, 1, 'PLN')",
        [(pid, sku, category) for sku, (pid, category) in catalog.items()],
    )
    texts = [json.dumps(row) for row in rows]
    assert all(plain_row(None, text) is not None for text in texts)  # what the import sends this way
    async with db.transaction():  # the priced rows outlive price_plain's own (inner) transaction
        batch, problems = await price_plain(db, list(enumerate(texts, start=1)))
        priced = {r["n"]: r for r in await db.fetch("SELECT * FROM order_import_priced")}
    assert len(priced) == len(rows) and batch.count == len(rows) - len(problems) and batch.data()
    outcomes = {"priced": 0, "customer": 0, "pricing": 0}
    for number, text in enumerate(texts, start=1):
        row = ImportRow.model_validate_json(text)
        problem = problems.get(number)
        if row.customer_external_id not in customers:
            assert problem == "customer", text
            outcomes["customer"] += 1
            continue
        built = build_order(row, catalog)
        if isinstance(built, list):
            assert problem == "pricing", (text, built)
            outcomes["pricing"] += 1
            continue
        assert problem is None, (text, problem)
        outcomes["priced"] += 1
        got = priced[number]
        expected = built | {"customer_id": customers[row.customer_external_id]}
        for column in STAGE_COLUMNS:
            if column in ("id", "lines"):
                continue
            assert got[column] == expected[column], (column, text, got[column], expected[column])
        # the stored lines as JSON, to the string (amounts keep the digits build_order gives them)
        assert json.loads(got["lines"]) == [{k: _plain(v) for k, v in line.items()} for line in built["lines"]], text
    assert all(outcomes.values()), outcomes  # every path was exercised


async def test_amounts_beyond_decimals_exact_range_are_left_to_python(db: asyncpg.Connection) -> None:
    external_id = f"pc-{uuid.uuid4().hex[:8]}"
    await db.execute(
        "INSERT INTO known_customers (customer_id, external_id, state) VALUES ($1, $2, 'active')",
        uuid.uuid4(),
        external_id,
    )
    big = {
        "customer_external_id": external_id,
        "placed_at": "2020-01-01T00:00:00Z",
        "total_amount": "9999999999999.99",
        "currency": "PLN",
        "lines": [
            {"sku": "x", "quantity": 1, "unit_price": "3333333333.33"},
            {"sku": "y", "quantity": 1_000_000, "unit_price": "3333333.33"},
        ],
    }
    text = json.dumps(big)
    assert plain_row(None, text) is not None
    batch, problems = await price_plain(db, [(1, text)])
    assert problems == {1: "python"} and batch.count == 0
    assert isinstance(build_order(ImportRow.model_validate_json(text), {}), dict)  # Python prices it
