"""Reading bulk import bodies incrementally: CSV (RFC 4180) and NDJSON, chunk by chunk.

    RecordReader      bytes in → complete records out (relacja_servicekit.import_records,
                      shared with the orders import; re-exported here)
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

import json
from typing import Any

from relacja_servicekit.import_records import MAX_LINE_BYTES, ImportFormatError, RecordReader

from .customer import FIELDS

__all__ = ["CSV_COLUMNS", "MAX_LINE_BYTES", "ImportFormatError", "RecordReader", "csv_columns", "csv_row"]

# A row carries any customer field, plus the kind; external_id (the upsert key) is one of them.
CSV_COLUMNS: frozenset[str] = frozenset(FIELDS) | {"kind"}
_JSON_COLUMNS = ("addresses", "custom_attributes")
_NEVER_NULL = ("kind", "lifecycle_stage")


def csv_columns(header: list[str]) -> list[dict[str, str]]:
    """Errors of a CSV header row: unknown or repeated columns, no ``external_id``."""
    names = [name.strip() for name in header]
    errors = [{"field": f"header.{name}", "message": "unknown column"} for name in names if name not in CSV_COLUMNS]
    errors += [
        {"field": f"header.{name}", "message": "repeated column"}
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    if "external_id" not in names:
        errors.append({"field": "header.external_id", "message": "required: rows are matched by external_id"})
    return errors


def csv_row(header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The record as a JSON object (``None`` for empty cells), or field errors."""
    if len(cells) != len(header):
        return {}, [{"field": "row", "message": f"has {len(cells)} cells; the header has {len(header)}"}]
    row: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, cell in zip(header, cells, strict=True):
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
