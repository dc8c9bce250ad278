"""Field types for request models that accept only what their schema says.

Pydantic's lax mode turns ``0`` into ``False``, ``false`` into ``0``, ``0`` into
1970-01-01 and ``"0.5"`` into a timestamp half a second after the epoch. A client that
sends those has a bug, and the OpenAPI document (``type: boolean``, ``format: date-time``)
says they are invalid, so the service must refuse them (422 in a body, 400 in a query)
instead of guessing. Use these in request models and query parameters:

    class TicketCreate(BaseModel):
        public: StrictBool = True
        minutes: Integer
        due_at: Timestamp | None = None

``Integer`` is a JSON integer: ``2`` and ``2.0`` (JSON Schema's ``integer`` is any number
without a fraction), never ``"2"``, ``true`` or ``2.5`` (pydantic's ``Integer`` refuses
``2.0``, which the schema allows; its lax ``int`` takes ``"2"`` and ``true``, which it does
not). ``Timestamp`` and ``Day`` take RFC 3339 / ISO 8601 text (or an already-parsed value when
code builds a model itself), never a number; their JSON Schema is unchanged.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool

__all__ = ["StrictBool", "Integer", "JsonInteger", "Timestamp", "Day", "not_space"]


# Pydantic reads a number, or text holding one ("0.5"), as seconds since the epoch.
_STARTS_WITH_A_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text_or(kind: type, example: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, kind) or (isinstance(value, str) and _STARTS_WITH_A_DATE.match(value)):
            return value
        raise ValueError(f"must be text such as {example!r}")

    return BeforeValidator(check)


#: An RFC 3339 timestamp (``2026-01-31T09:00:00Z``); numbers are refused.
Timestamp = Annotated[datetime, _text_or(datetime, "2026-01-31T09:00:00Z")]

#: An ISO 8601 calendar date (``2026-01-31``); numbers are refused.
Day = Annotated[date, _text_or(date, "2026-01-31")]


def _json_integer(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("must be a JSON number, not text or a boolean")
    return value


#: The check behind ``Integer``, for an ``Annotated`` that carries its own range: write
#: ``Annotated[int, Field(ge=1, le=12), JsonInteger]`` (a range put after the validator, as
#: in ``Annotated[Integer, Field(...)]``, shows in the JSON Schema as ``ge``/``le`` instead
#: of ``minimum``/``maximum``).
JsonInteger = BeforeValidator(_json_integer)

#: A JSON integer (see the module docstring); a range goes in the field's ``Field(ge=..., le=...)``.
Integer = Annotated[int, JsonInteger]


# White space spelled out. ``\s`` is a different set in each engine that reads a field's
# pattern: pydantic's Rust regex counts U+0085 as space, Python's ``re`` also U+001C-U+001F,
# and the JSON Schema (ECMA-262) readers of the OpenAPI document count neither but U+FEFF —
# so the document allowed ``"\u023e@\u0085"`` as an address the service then refused
# (schemathesis, POST /api/v1/engagement/suppressions). This list means the same to all three.
_SPACE = r" \t\n\r\f\v\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def not_space(also: str = "") -> str:
    """A pattern's character class: one character that is neither white space nor in ``also``."""
    return f"[^{also}{_SPACE}]"
