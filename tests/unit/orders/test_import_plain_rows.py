"""The import's fast path (``plain_row``) against the rules (``parse_row``, pydantic): a row
it recognises is one ``parse_row`` accepts and reads the same way (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relacja_orders.domain.imports import ImportRow, parse_row, plain_row

# Values in the usual shapes and beside them (floats, bools, aliases, odd times, long
# numbers, escapes), so that both answers of plain_row are exercised.
_texts = st.one_of(st.text(max_size=5), st.text(min_size=195, max_size=205), st.sampled_from(["crm-1", "a\\u0000", ""]))
_amounts = st.one_of(
    st.integers(0, 7).flatmap(lambda places: st.decimals(min_value=0, max_value=10**14, places=places).map(str)),
    st.integers(-5, 10**14),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["1e3", "-1", " 1", "1.", ".5", "١٢", "12.500", "0", "99999999999999.5"]),
    st.none(),
    st.booleans(),
)
_instants = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2020-01-01T00:00:00Z",
            "2020-01-01T00:00:00.5Z",
            "2020-02-30T00:00:00Z",
            "2020-01-01 00:00:00",
            "2020-01-01T24:00:00",
            "2020-01-01T00:00:60Z",
            "2020-01-01T00:00:00+23:59",
            "2020-01-01T00:00:00+24:00",
            "2020-01-01T00:00:00z",
            "0000-01-01T00:00:00",
            "2020-01-01",
        ]
    ),
    st.integers(),
)
_lines = st.lists(
    st.dictionaries(
        st.sampled_from(["sku", "quantity", "unit_price", "unit_cost", "category", "discount_amount", "discount"]),
        st.one_of(_texts, _amounts, st.integers(-1, 1_000_001)),
        max_size=7,
    ).map(lambda line: {"sku": "S1", "quantity": 1, "unit_price": "1.00"} | line),
    max_size=3,
)
_rows = st.dictionaries(
    st.sampled_from(
        [
            "customer_external_id",
            "placed_at",
            "total_amount",
            "currency",
            "external_id",
            "channel",
            "status",
            "lines",
            "total",
            "ordered_at",
            "shoe_size",
        ]
    ),
    st.one_of(
        _texts,
        _amounts,
        _instants,
        st.sampled_from(["PLN", "JPY", "pln", "web", "store", "cancelled", "paid", "delivered", "bogus"]),
        _lines,
    ),
    max_size=9,
).map(
    lambda row: (
        {"customer_external_id": "c-1", "placed_at": "2020-01-01T00:00:00Z", "total_amount": "10.00", "currency": "PLN"}
        | row
    )
)

# Rows in the usual shape, with values at and just past the fast path's bounds.
_edge_texts = st.one_of(
    st.text(min_size=1, max_size=3), st.sampled_from(["x" * 200, "x" * 201, "x" * 64, "x" * 65, "zażółć"])
)
_edge_amounts = st.one_of(
    st.integers(0, 8).flatmap(lambda places: st.decimals(min_value=0, max_value=10**13, places=places).map(str)),
    st.integers(0, 10**13),
    st.sampled_from(["999999999999", "9999999999999", "0.000001", "0.0000001", "1.0000", "12.345"]),
)
_plain_lines = st.lists(
    st.fixed_dictionaries(
        {
            "sku": _edge_texts,
            "quantity": st.one_of(st.integers(1, 5), st.sampled_from([1_000_000, 1_000_001, 0])),
            "unit_price": _edge_amounts,
        },
        optional={
            "unit_cost": st.one_of(st.none(), _edge_amounts),
            "category": st.one_of(st.none(), st.sampled_from(["", "shoes", "x" * 100, "x" * 101])),
            "discount_amount": _edge_amounts,
        },
    ),
    max_size=4,
)
_plain_rows = st.fixed_dictionaries(
    {
        "customer_external_id": _edge_texts,
        "placed_at": st.one_of(
            st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
        ),
        "total_amount": _edge_amounts,
        "currency": st.sampled_from(["PLN", "JPY", "KWD", "EUR", "ABC"]),
    },
    optional={
        "external_id": st.one_of(st.none(), _edge_texts),
        "channel": st.sampled_from(["web", "store", "phone", "partner", "fax"]),
        "status": st.sampled_from(["placed", "paid", "fulfilled", "delivered", "cancelled", "lost"]),
        "lines": _plain_lines,
    },
)
_any_rows = st.one_of(_rows, _plain_rows, _plain_rows, _plain_rows)  # weighted: most exercise the fast path


def _same(plain_doc: str, parsed: ImportRow | None) -> None:
    assert parsed is not None
    assert ImportRow.model_validate_json(plain_doc) == parsed


@settings(max_examples=1500, deadline=None)
@given(_any_rows)
def test_a_plain_ndjson_row_is_one_the_rules_accept_and_read_alike(row: dict[str, Any]) -> None:
    text = json.dumps(row)
    plain = plain_row(None, text)
    if plain is None:
        return
    parsed, errors = parse_row(None, text)
    assert errors == []
    _same(plain.doc, parsed)
    assert parsed is not None
    assert (plain.external_id, plain.customer_external_id) == (parsed.external_id, parsed.customer_external_id)


@settings(max_examples=800, deadline=None)
@given(_any_rows)
def test_a_plain_csv_row_is_one_the_rules_accept_and_read_alike(row: dict[str, Any]) -> None:
    header = list(row)
    cells = [json.dumps(v) if k == "lines" else (v if isinstance(v, str) else json.dumps(v)) for k, v in row.items()]
    plain = plain_row(header, cells)
    if plain is None:
        return
    parsed, errors = parse_row(header, cells)
    assert errors == []
    _same(plain.doc, parsed)


def test_the_usual_rows_are_plain() -> None:
    row = {
        "external_id": "o-1",
        "customer_external_id": "c-1",
        "placed_at": "2020-01-01T10:00:00+00:00",
        "total_amount": "28.00",
        "currency": "PLN",
        "channel": "store",
        "lines": [
            {"sku": "S1", "quantity": 2, "unit_price": "10.00", "unit_cost": "6.00"},
            {"sku": "S2", "quantity": 1, "unit_price": "5.00"},
        ],
    }
    plain = plain_row(None, json.dumps(row))
    assert plain is not None and (plain.external_id, plain.customer_external_id) == ("o-1", "c-1")
    header = ["customer_external_id", "placed_at", "total_amount", "currency", "lines"]
    assert plain_row(header, ["c-1", "2020-01-01T10:00:00", "12", "EUR", json.dumps(row["lines"])]) is not None
    # what the rules alone decide is left to them: aliases, floats, a bad date, unknown keys
    for odd in ({"total": "1"}, {"total_amount": 1.5}, {"placed_at": "2020-02-30T00:00:00Z"}, {"discount": "1"}):
        assert plain_row(None, json.dumps(row | odd)) is None
