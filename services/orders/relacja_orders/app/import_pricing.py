"""Pricing plain import rows in PostgreSQL: the SQL twin of ``domain.imports.build_order``.

    price_plain(connection, rows)   COPY the rows' JSON into a temporary table, resolve their
                                    customers and SKUs and price them in one statement
                                    → PricedBatch (the priced orders as binary COPY data)
                                      + the rows PostgreSQL did not price, with why
    PricedBatch                     what the import's writer COPYs into its staging table

Why: parsing and pricing each row in Python (pydantic, ``Decimal``, the stored lines'
JSON) was ~75 µs of the ~100 µs of Python per imported order (docs/benchmarks.md §19).
Here Python only recognises a plain row (``domain.imports.plain_row``) and passes its text
on; PostgreSQL parses it (jsonb), joins the customers projection and the catalog, prices
it and hands back COPY data that the writer loads as is. The lookup runs on a connection
of its own while the previous batch is written, so two backends share the work.

The rules are ``build_order``'s, spelled in SQL (half-up rounding = ``round`` on the
non-negative amounts here; the tax split rounded exactly with integer division). A row
this statement does not price comes back with a ``problem``, and Python then does what it
always did for it:

    customer   no active customer with that external id: the row error, as before
    pricing    build_order reports errors (a total with too many decimals, a discount over
               the line's value, a total below the lines' sum): Python prices it to get
               exactly those errors
    python     amounts so large that Decimal's 28-digit arithmetic would round where
               numeric does not (tax × gross ≥ 10^27 in minor units): priced by Python,
               so the result is build_order's to the last digit

tests/integration/orders/test_import_pricing.py compares this statement with
``build_order`` on random rows (hypothesis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain.money import DEFAULT_MINOR_UNITS, MINOR_UNITS
from ..tables import IMPORTED_FIELDS

__all__ = ["STAGE_COLUMNS", "PricedBatch", "price_plain"]

#: The staging table's columns, as the writer COPYs them (``app.imports``).
STAGE_COLUMNS = ("id", "external_id", *IMPORTED_FIELDS)

_CREATE = """
CREATE TEMP TABLE IF NOT EXISTS order_import_raw (n int, doc jsonb) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS order_import_priced (
    n int, problem text,
    id uuid, external_id text, customer_id uuid, status text, channel text, currency text, placed_at timestamptz,
    gross_amount numeric, tax_amount numeric, total_amount numeric, returned_amount numeric,
    refunded_amount numeric, net_amount numeric, cost_amount numeric, margin numeric, lines jsonb
) ON COMMIT DELETE ROWS;
"""

_DIGITS = " ".join(f"WHEN '{code}' THEN {digits}" for code, digits in sorted(MINOR_UNITS.items()))

# One statement. ``d``: the currency's digits, ``scale`` 10^d, ``unit`` 10^-d (exact);
# amounts are non-negative wherever they are rounded (a negative line is an error), so
# round() is half-up. A line's tax share round_half_up(tax × line / gross, d) is computed
# exactly: floor((2 · tax · line · 10^d + gross) / (2 · gross)) · 10^-d.
_PRICE = f"""
INSERT INTO order_import_priced
WITH raw AS (
    SELECT r.n, r.doc, r.doc ->> 'currency' AS currency, cur.d, trim_scale(10::numeric ^ cur.d) AS scale, trim_scale(1 / 10::numeric ^ cur.d) AS unit,
           (r.doc ->> 'total_amount')::numeric AS total, coalesce(r.doc ->> 'status', 'delivered') AS status
    FROM order_import_raw AS r
    CROSS JOIN LATERAL (SELECT CASE r.doc ->> 'currency' {_DIGITS} ELSE {DEFAULT_MINOR_UNITS} END AS d) AS cur
), customer AS (
    SELECT DISTINCT ON (external_id) external_id, customer_id FROM known_customers
    WHERE external_id IN (SELECT doc ->> 'customer_external_id' FROM order_import_raw) AND state = 'active'
    ORDER BY external_id, updated_at DESC
), line AS (
    SELECT raw.n, raw.d, l.line_no::int AS line_no, l.v ->> 'sku' AS sku,
           coalesce(nullif(l.v ->> 'category', ''), p.category) AS category, p.id AS product_id,
           (l.v ->> 'quantity')::int AS quantity, (l.v ->> 'unit_price')::numeric AS unit_price,
           (l.v ->> 'unit_cost')::numeric AS unit_cost, coalesce((l.v ->> 'discount_amount')::numeric, 0) AS discount,
           (l.v ->> 'quantity')::int * (l.v ->> 'unit_price')::numeric
               - coalesce((l.v ->> 'discount_amount')::numeric, 0) AS amount
    FROM raw CROSS JOIN LATERAL jsonb_array_elements(coalesce(raw.doc -> 'lines', '[]')) WITH ORDINALITY AS l(v, line_no)
    LEFT JOIN products AS p ON p.sku = l.v ->> 'sku'
), per_order AS (
    SELECT n, count(*) AS line_count, max(line_no) AS last_line, sum(round(amount, d)) AS gross,
           bool_or(amount < 0) AS negative_line, bool_or(unit_cost IS NULL) AS cost_unknown,
           sum(round(unit_cost, d) * quantity) AS cost
    FROM line GROUP BY n
), priced AS (
    SELECT raw.*, c.customer_id, o.line_count, o.last_line, o.gross, o.negative_line, o.cost_unknown, o.cost,
           raw.total - o.gross AS tax,
           CASE
               WHEN c.customer_id IS NULL THEN 'customer'
               WHEN scale(trim_scale(raw.total)) > raw.d OR o.negative_line OR raw.total < o.gross THEN 'pricing'
               WHEN (raw.total - o.gross) * o.gross * raw.scale * raw.scale >= 1e27 THEN 'python'
           END AS problem
    FROM raw
    LEFT JOIN customer AS c ON c.external_id = raw.doc ->> 'customer_external_id'
    LEFT JOIN per_order AS o USING (n)
), line_tax AS (
    -- each line's share of the tax, rounded half-up exactly; the last line takes the rest
    SELECT line.*, CASE
        WHEN line.line_no = p.last_line THEN NULL
        WHEN p.gross = 0 THEN 0::numeric
        ELSE round(div(2 * p.tax * round(line.amount, line.d) * p.scale + p.gross, 2 * p.gross) * p.unit, line.d)
    END AS tax_share
    FROM line JOIN priced AS p ON p.n = line.n AND p.problem IS NULL
), stored AS (
    SELECT t.n, jsonb_agg(jsonb_build_object(
        'line_no', t.line_no, 'product_id', t.product_id::text, 'sku', t.sku, 'category', t.category,
        'quantity', t.quantity, 'unit_price', round(t.unit_price, t.d)::text, 'unit_cost', round(t.unit_cost, t.d)::text,
        'discount_percent', '0', 'discount_amount', round(t.discount, t.d)::text,
        'line_amount', round(t.amount, t.d)::text,
        'tax_rate', '0',
        'tax_amount', coalesce(t.tax_share, p.tax - coalesce(s.shared, 0))::text,
        'returned_quantity', 0
    ) ORDER BY t.line_no) AS lines
    FROM line_tax AS t JOIN priced AS p USING (n)
    LEFT JOIN (SELECT n, sum(tax_share) AS shared FROM line_tax GROUP BY n) AS s USING (n)
    GROUP BY t.n
)
SELECT p.n, p.problem, gen_random_uuid(), p.doc ->> 'external_id', p.customer_id, p.status,
       coalesce(p.doc ->> 'channel', 'web'), p.currency,
       CASE WHEN p.doc ->> 'placed_at' ~ '(Z|[+-][0-9][0-9]:[0-9][0-9])$' THEN (p.doc ->> 'placed_at')::timestamptz
            ELSE (p.doc ->> 'placed_at')::timestamp AT TIME ZONE 'UTC' END,
       -- without lines: gross = total, no tax, no cost; with lines: the lines' sums
       CASE WHEN p.line_count IS NULL THEN round(p.total, p.d) ELSE p.gross END,
       CASE WHEN p.line_count IS NULL THEN round(0::numeric, p.d) ELSE round(p.tax, p.d) END,
       round(p.total, p.d),
       round(0::numeric, p.d),
       round(0::numeric, p.d),
       CASE WHEN p.status = 'cancelled' THEN round(0::numeric, p.d) WHEN p.line_count IS NULL THEN round(p.total, p.d) ELSE p.gross END,
       CASE WHEN p.line_count IS NULL OR p.cost_unknown THEN NULL WHEN p.status = 'cancelled' THEN 0::numeric ELSE round(p.cost, p.d) END,
       CASE WHEN p.line_count IS NULL OR p.cost_unknown THEN NULL
            WHEN p.status = 'cancelled' THEN 0::numeric
            ELSE round(p.gross - round(p.cost, p.d), p.d) END,
       coalesce(s.lines, '[]'::jsonb)
FROM priced AS p LEFT JOIN stored AS s USING (n)
"""

_PRICED = f"SELECT {', '.join(STAGE_COLUMNS)} FROM order_import_priced WHERE problem IS NULL ORDER BY n"


@dataclass(eq=False)
class PricedBatch:
    """Priced orders as binary COPY data in :data:`STAGE_COLUMNS` order (``chunks``), and
    how many."""

    chunks: list[bytes] = field(default_factory=list)
    count: int = 0

    async def _receive(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)


async def price_plain(connection: Any, rows: Sequence[tuple[int, str]]) -> tuple[PricedBatch, dict[int, str]]:
    """Price ``rows`` ((row number, JSON text of a plain row)) on ``connection`` (asyncpg,
    not in a transaction) → the priced orders and {row number: problem} of the rest."""
    batch = PricedBatch()
    async with connection.transaction():
        await connection.execute(_CREATE)
        await connection.copy_records_to_table("order_import_raw", records=rows, columns=["n", "doc"])
        await connection.execute(_PRICE)
        problems = {r["n"]: r["problem"] for r in await connection.fetch(_PROBLEMS)}
        batch.count = len(rows) - len(problems)
        if batch.count:
            await connection.copy_from_query(_PRICED, output=batch._receive, format="binary")
    return batch, problems


_PROBLEMS = "SELECT n, problem FROM order_import_priced WHERE problem IS NOT NULL"
