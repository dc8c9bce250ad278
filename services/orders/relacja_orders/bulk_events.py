"""``OrderPlacedV1`` outbox rows for imported orders, built by PostgreSQL in the statement
that upserts them.

Why in SQL: building one event per order in Python (envelope, snapshot, two JSON
encodings) cost about as much as parsing and pricing the row itself — measured ~12–20k
events/s on one core of this 2-core machine — so it would halve the import. Here the
outbox rows come out of the upsert's ``RETURNING`` rows, set-based, on the database's own
core, while Python parses the next batch.

The envelope is the shared writer's (``relacja_messaging.Outbox.insert_select_sql``): a
time-ordered UUIDv7 event id, the customer id as key and ``ce_subject``, the CloudEvents
headers exactly as a live event gets them (``ce_time`` = ``$1``, ``traceparent`` = ``$2``).
This module builds only the payload: ``snapshot.snapshot(order)`` + occurred_at — amounts
as decimal strings with the currency's digits (``domain.money.MINOR_UNITS``), lines with
the contract's ``OrderLine`` fields, times RFC 3339 UTC as pydantic writes them.

An integration test (tests/integration/orders/test_imports.py) checks that the payload
equals ``snapshot()`` of the stored order and validates as ``OrderPlacedV1``.
"""

from __future__ import annotations

from relacja_contracts.events.orders import OrderPlacedV1
from relacja_messaging import Outbox

from .domain.money import DEFAULT_MINOR_UNITS, MINOR_UNITS
from .settings import EVENT_SOURCE
from .snapshot import AMOUNT_FIELDS, EVENT_LINE_FIELDS

__all__ = ["placed_events_insert"]

_outbox = Outbox(EVENT_SOURCE)


def _digits(currency: str) -> str:
    cases = " ".join(f"WHEN '{code}' THEN {digits}" for code, digits in sorted(MINOR_UNITS.items()))
    return f"(CASE {currency} {cases} ELSE {DEFAULT_MINOR_UNITS} END)"


def _rfc3339(moment: str) -> str:
    """RFC 3339 UTC text of a timestamptz as pydantic writes a payload's datetime (fraction only when there is one)."""
    utc = f"({moment} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_part('microseconds', {utc})::bigint % 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
    )


def _money(column: str) -> str:
    return f"round(o.{column}, {_digits('o.currency')})::text"


def placed_events_insert(source_cte: str) -> str:
    """``INSERT INTO outbox_events ... SELECT ... FROM <source_cte>`` (a CTE of order rows);
    parameters: $1 = occurred_at / ce_time (timestamptz), $2 = traceparent (text or NULL)."""
    line_fields = ", ".join(f"'{name}', l -> '{name}'" for name in EVENT_LINE_FIELDS)
    payload = ", ".join(
        [
            "'customer_id', o.customer_id::text", "'order_id', o.id::text", "'order_number', o.number",
            "'external_id', o.external_id", "'status', o.status", "'channel', o.channel",
            f"'placed_at', {_rfc3339('o.placed_at')}", "'currency', o.currency",
            *[f"'{name}', {_money(name)}" for name in AMOUNT_FIELDS],
            f"'lines', (SELECT coalesce(jsonb_agg(jsonb_build_object({line_fields}) ORDER BY (l ->> 'line_no')::int), '[]') "
            "FROM jsonb_array_elements(o.lines) AS l)",
            "'imported', o.imported", f"'occurred_at', {_rfc3339('$1::timestamptz')}",
        ]
    )
    rows = f"SELECT o.customer_id AS subject, jsonb_build_object({payload}) AS payload FROM {source_cte} AS o"
    return _outbox.insert_select_sql(OrderPlacedV1, rows, time="$1", traceparent="$2")
