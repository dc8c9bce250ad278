"""Reading bulk import bodies incrementally: CSV (RFC 4180) and NDJSON, chunk by chunk.

    RecordReader      bytes in (any chunking) → complete records out: a CSV record's cells,
                      or an NDJSON line's text; never holds more than one unfinished record
    csv_columns       checks a CSV header row (known columns, external_id present)
    csv_row           a CSV record as the JSON object an NDJSON line would carry

Numbering (``row`` in errors): a CSV record's number as a spreadsheet shows it (the header
is row 1, the first customer row 2); an NDJSON line's number (blank lines count, and are
skipped).

CSV cells: an empty cell clears the field (``null``) — except ``kind`` and
``lifecycle_stage``, which cannot be cleared: there it leaves the field as it is;
``tags`` are separated by ``;``;
``addresses`` and ``custom_attributes`` hold JSON (an array and an object).
"""

from __future__ import annotations

import codecs
import csv
import json
from typing import Any, Iterator, Literal

from .customer import FIELDS

__all__ = ["CSV_COLUMNS", "MAX_LINE_BYTES", "ImportFormatError", "RecordReader", "csv_columns", "csv_row"]

MAX_LINE_BYTES = 1_048_576  # one customer never needs more; bounds the memory of one unfinished line

Format = Literal["csv", "ndjson"]

# A row carries any customer field, plus the kind; external_id (the upsert key) is one of them.
CSV_COLUMNS: frozenset[str] = frozenset(FIELDS) | {"kind"}
_JSON_COLUMNS = ("addresses", "custom_attributes")
_NEVER_NULL = ("kind", "lifecycle_stage")


class ImportFormatError(ValueError):
    """The body cannot be read as the format it claims (the whole import stops)."""


class RecordReader:
    """Feed ``bytes`` chunks; iterate the records each chunk completes.

    UTF-8 (a byte-order mark is skipped), lines end with LF or CRLF. A CSV record spans
    lines while a quoted field is open: RFC 4180 doubles quotes inside quoted fields, so
    a record is complete exactly when it holds an even number of ``"``.
    """

    def __init__(self, format: Format) -> None:
        self.format = format
        self._tail = b""  # bytes after the last line break
        self._record: list[str] = []  # CSV lines of an unfinished record
        self._quotes = 0
        self._line_number = 0
        self.record_number = 0  # of the last CSV record returned

    def feed(self, chunk: bytes) -> Iterator[tuple[int, Any]]:
        # Split on LF before decoding: in UTF-8 the byte 0x0A is never part of another
        # character, so each line decodes on its own and a bad byte is reported at its
        # line, after every record before it, however the body was chunked.
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        if len(self._tail) > MAX_LINE_BYTES:
            raise ImportFormatError(f"line {self._line_number + len(lines) + 1} is longer than {MAX_LINE_BYTES} bytes")
        for line in lines:
            yield from self._line(self._decode(line))

    def finish(self) -> Iterator[tuple[int, Any]]:
        if self._tail:
            tail, self._tail = self._tail, b""
            yield from self._line(self._decode(tail))
        if self._record:
            raise ImportFormatError(f"the body ends inside a quoted CSV field (record {self.record_number + 1})")

    def _decode(self, line: bytes) -> str:
        if self._line_number == 0 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFormatError(f"line {self._line_number + 1} is not UTF-8") from None
        return text[:-1] if text.endswith("\r") else text

    def _line(self, line: str) -> Iterator[tuple[int, Any]]:
        self._line_number += 1
        if self.format == "ndjson":
            if line.strip():
                yield self._line_number, line
            return
        self._record.append(line)
        self._quotes += line.count('"')
        if self._quotes % 2:
            return
        text = "\n".join(self._record)
        self._record, self._quotes = [], 0
        if not text.strip():
            return  # blank line between records
        self.record_number += 1
        try:
            cells = next(csv.reader([text], strict=True))
        except csv.Error as err:
            raise ImportFormatError(f"CSV record {self.record_number} is malformed: {err}") from None
        yield self.record_number, cells


def csv_columns(header: list[str]) -> list[dict[str, str]]:
    """Errors of a CSV header row: unknown or repeated columns, no ``external_id``."""
    names = [name.strip() for name in header]
    errors = [{"field": f"header.{name}", "message": "unknown column"} for name in names if name not in CSV_COLUMNS]
    errors += [{"field": f"header.{name}", "message": "repeated column"} for name in sorted({n for n in names if names.count(n) > 1})]
    if "external_id" not in names:
        errors.append({"field": "header.external_id", "message": "required: rows are matched by external_id"})
    return errors


def csv_row(header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The record as a JSON object (``None`` for empty cells), or field errors."""
    if len(cells) != len(header):
        return {}, [{"field": "row", "message": f"has {len(cells)} cells; the header has {len(header)}"}]
    row: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, cell in zip(header, cells):
        name = name.strip()
        value: Any = cell.strip() or None
        if value is None and name in _NEVER_NULL:
            continue
        if value is not None and name == "tags":
            value = [tag.strip() for tag in value.split(";") if tag.strip()]
        elif value is not None and name in _JSON_COLUMNS:
            try:
                value = json.loads(value)
            except ValueError:
                errors.append({"field": name, "message": "is not valid JSON"})
                continue
        row[name] = value
    return row, errors
