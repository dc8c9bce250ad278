"""``OrderPlacedV1`` outbox rows for imported orders, built by PostgreSQL in the statement
that upserts them.

Why in SQL: building one event per order in Python (envelope, snapshot, two JSON
encodings) cost about as much as parsing and pricing the row itself — measured ~12–20k
events/s on one core of this 2-core machine — so it would halve the import. Here the
outbox rows come out of the upsert's ``RETURNING`` rows, set-based, on the database's own
core, while Python parses the next batch.

The row is the one ``Outbox.row`` writes for a live event, field for field:

    event_id / ce_id   a time-ordered UUIDv7 (``relacja_messaging.outbox.BULK_EVENT_ID_SQL``)
    key / ce_subject   the customer id
    headers            ce_specversion, ce_id, ce_source, ce_type, ce_subject, ce_time,
                       content-type (+ traceparent when the request had one), as
                       ``relacja_contracts.to_kafka_headers`` orders them
    payload            ``snapshot.snapshot(order)`` + occurred_at: amounts as decimal strings
                       with the currency's digits (``domain.money.minor_units``), lines with
                       the contract's ``OrderLine`` fields, times RFC 3339 UTC

An integration test (tests/integration/orders/test_imports.py) checks that the payload
equals ``snapshot()`` of the stored order and validates as ``OrderPlacedV1``.
"""

from __future__ import annotations

from relacja_contracts.events.orders import OrderPlacedV1
from relacja_messaging.outbox import BULK_EVENT_ID_SQL

from .domain.money import _MINOR_UNITS
from .settings import EVENT_SOURCE
from .snapshot import AMOUNT_FIELDS, EVENT_LINE_FIELDS

__all__ = ["placed_events_insert"]


def _digits(currency: str) -> str:
    cases = " ".join(f"WHEN '{code}' THEN {digits}" for code, digits in sorted(_MINOR_UNITS.items()))
    return f"(CASE {currency} {cases} ELSE 2 END)"


def _rfc3339(moment: str) -> str:
    """RFC 3339 UTC text of a timestamptz as Python's isoformat writes it (fraction only when there is one)."""
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
    headers = (
        "jsonb_build_array("
        "jsonb_build_array('ce_specversion', '1.0'), jsonb_build_array('ce_id', o.event_id::text), "
        f"jsonb_build_array('ce_source', '{EVENT_SOURCE}'), jsonb_build_array('ce_type', '{OrderPlacedV1.event_type}'), "
        "jsonb_build_array('ce_subject', o.customer_id::text), "
        f"jsonb_build_array('ce_time', {_rfc3339('$1::timestamptz')}), jsonb_build_array('content-type', 'application/json'))"
        " || CASE WHEN $2::text IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_array('traceparent', $2::text)) END"
    )
    return (
        "INSERT INTO outbox_events (event_id, topic, key, event_type, headers, payload) "
        f"SELECT o.event_id, '{OrderPlacedV1.topic.name}', o.customer_id::text, '{OrderPlacedV1.event_type}', {headers}, "
        f"jsonb_build_object({payload}) "
        f"FROM (SELECT {BULK_EVENT_ID_SQL} AS event_id, w.* FROM {source_cte} AS w) AS o"
    )
