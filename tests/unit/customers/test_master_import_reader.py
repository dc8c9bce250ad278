"""The incremental CSV/NDJSON reader of bulk imports (pure)."""

from __future__ import annotations

import pytest

from relacja_customers.domain.imports import ImportFormatError, RecordReader, csv_columns, csv_row

BODY = 'external_id,given_name\r\n"E1","Anna ""Ania"""\r\nE2,"Jan\r\nMaria"\n\nE3,Łucja\n'.encode()


def read(body: bytes, format: str, chunk: int) -> list:
    reader = RecordReader(format)  # type: ignore[arg-type]  # parametrized with the literal format names as str
    records = []
    for start in range(0, len(body), chunk):
        records += list(reader.feed(body[start : start + chunk]))
    return records + list(reader.finish())


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_csv_records_whatever_the_chunking(chunk: int) -> None:
    assert read(("\ufeff".encode() + BODY), "csv", chunk) == [
        (1, ["external_id", "given_name"]),
        (2, ["E1", 'Anna "Ania"']),
        (3, ["E2", "Jan\nMaria"]),
        (4, ["E3", "Łucja"]),
    ]


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_ndjson_lines_are_numbered_with_blank_lines_counted(chunk: int) -> None:
    body = b'{"a": 1}\r\n\n{"b": "\xc5\x81"}'
    assert read(body, "ndjson", chunk) == [(1, '{"a": 1}'), (3, '{"b": "Ł"}')]


def test_bad_utf8_is_reported_at_its_line_after_the_good_ones() -> None:
    reader = RecordReader("ndjson")
    assert list(reader.feed(b'{"a": 1}\n')) == [(1, '{"a": 1}')]
    with pytest.raises(ImportFormatError, match="line 2 is not UTF-8"):
        list(reader.feed(b'{"b": "\xff"}\n'))


def test_an_unterminated_quote_is_reported_at_the_end() -> None:
    reader = RecordReader("csv")
    assert list(reader.feed(b'a,b\n1,"open\n')) == [(1, ["a", "b"])]
    with pytest.raises(ImportFormatError, match="quoted"):
        list(reader.finish())


def test_an_endless_line_is_refused() -> None:
    reader = RecordReader("ndjson")
    with pytest.raises(ImportFormatError, match="longer than"):
        for _ in range(20):
            list(reader.feed(b"x" * 100_000))


def test_csv_header_and_cells() -> None:
    assert csv_columns(["external_id", "email"]) == []
    assert {e["field"] for e in csv_columns(["email", "shoe", "email"])} == {
        "header.shoe",
        "header.email",
        "header.external_id",
    }
    header = ["external_id", "tags", "custom_attributes", "kind", "email", "lifecycle_stage"]
    row, errors = csv_row(header, ["E1", "vip; b2b ;", '{"a": {"type": "boolean", "value": true}}', "", "", ""])
    assert errors == [] and row == {
        "external_id": "E1",
        "tags": ["vip", "b2b"],
        "custom_attributes": {"a": {"type": "boolean", "value": True}},
        "email": None,
    }
    assert csv_row(header, ["E1", "", "{bad", "", "", ""])[1] == [
        {"field": "custom_attributes", "message": "is not valid JSON"}
    ]
    assert csv_row(header, ["E1"])[1][0]["field"] == "row"
