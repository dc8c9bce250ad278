"""Reading bulk import bodies incrementally: CSV (RFC 4180) and NDJSON, chunk by chunk.

    RecordReader      bytes in (any chunking) → complete records out: a CSV record's cells,
                      or an NDJSON line's text; never holds more than one unfinished record,
                      and never one longer than MAX_LINE_BYTES (a quote opened and never
                      closed would otherwise gather the whole upload into memory)
    row_errors        a record's pydantic ValidationError as the job's row errors
                      ({field, message}; "row" when the record is not a JSON object)

Shared by every service that takes bulk imports (customers, orders): what a row means is
the service's business; splitting a streamed body into records is not. Pure code.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import ValidationError

__all__ = ["Format", "ImportFormatError", "MAX_LINE_BYTES", "RecordReader", "row_errors"]

MAX_LINE_BYTES = 1_048_576  # bounds the memory of one unfinished line

Format = Literal["csv", "ndjson"]


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
        self._record_chars = 0  # their length, bounded like one line's
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
            line = line[len(codecs.BOM_UTF8) :]
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
        self._record_chars += len(line) + 1
        self._quotes += line.count('"')
        if self._quotes % 2:
            if self._record_chars > MAX_LINE_BYTES:
                # characters, not bytes: at most 4 bytes each in UTF-8, so the bound holds within 4x
                raise ImportFormatError(
                    f"CSV record {self.record_number + 1} is longer than {MAX_LINE_BYTES} bytes (a quoted field "
                    f"opened at line {self._line_number - len(self._record) + 1} is never closed)"
                )
            return
        text = "\n".join(self._record)
        self._record, self._quotes, self._record_chars = [], 0, 0
        if not text.strip():
            return  # blank line between records
        self.record_number += 1
        try:
            cells = next(csv.reader([text], strict=True))
        except csv.Error as err:
            raise ImportFormatError(f"CSV record {self.record_number} is malformed: {err}") from None
        yield self.record_number, cells


def row_errors(err: ValidationError) -> list[dict[str, str]]:
    """A record's validation errors as row errors: each field by its dotted location."""
    return [_row_error(error) for error in err.errors()]


def _row_error(error: Any) -> dict[str, str]:
    if error["type"] == "json_invalid":
        return {"field": "row", "message": "is not valid JSON"}
    if not error["loc"] and error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return {"field": "row", "message": "is not a JSON object"}
    return {"field": ".".join(str(p) for p in error["loc"]) or "row", "message": error["msg"]}
