"""The rule language of rule-based segments: JSON in, a validated tree out.

A rule is one JSON object of one of these shapes:

    {"and": [rule, ...]}                      all of them (at least one)
    {"or":  [rule, ...]}                      any of them (at least one)
    {"not": rule}
    {"field": NAME, "op": OP, "value": V}     a comparison on a projection field
    {"tag": "vip"}                            the customer carries the tag
    {"consent": "email_marketing"}            the customer has granted the consent

Fields and their types are listed in FIELDS; operators by type:

    integer, decimal, datetime   eq ne lt lte gt gte, in (list), is_null (true/false)
    enum                         eq ne, in / not_in (list), is_null
    boolean                      eq ne

Decimals are given as plain decimal strings ("100.50", DECIMAL_PATTERN) or numbers; datetimes as RFC 3339
strings with a time zone. Validation collects every problem with the JSON path of the
offending member (``rule.and[1].field``), so a client can show them all at once.
Nesting is limited to MAX_DEPTH levels and a rule to MAX_NODES nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .abc import ABC_CLASSES
from .loyalty import QUADRANTS
from .rfm import RFM_SEGMENTS

__all__ = [
    "CONSENT_PURPOSES",
    "DECIMAL_PATTERN",
    "FIELDS",
    "OPERATORS",
    "Comparison",
    "Field",
    "HasConsent",
    "HasTag",
    "Junction",
    "Negation",
    "Rule",
    "RuleError",
    "parse_rule",
]

MAX_DEPTH = 10
MAX_NODES = 200

# A decimal string: digits with an optional fraction, no exponent, below 10^14 in magnitude.
DECIMAL_PATTERN = r"^-?[0-9]{1,14}(\.[0-9]+)?$"

CONSENT_PURPOSES = ("email_marketing", "sms_marketing", "phone_marketing", "profiling", "partner_sharing")

FieldType = Literal["integer", "decimal", "datetime", "enum", "boolean"]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    description: str
    values: tuple[str, ...] = ()  # for enums
    nullable: bool = True


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("kind", "enum", "person or company", ("person", "company")),
        Field(
            "lifecycle_stage",
            "enum",
            "lead, prospect, customer, inactive",
            ("lead", "prospect", "customer", "inactive"),
        ),
        Field("registered_at", "datetime", "when the customer record was created"),
        Field("purchases", "integer", "distinct purchase days", nullable=False),
        Field("orders_count", "integer", "orders that count as purchases", nullable=False),
        Field("gross_revenue", "decimal", "value of goods ordered (not cancelled), before returns", nullable=False),
        Field("net_revenue", "decimal", "revenue after returns and cancellations", nullable=False),
        Field("margin", "decimal", "net revenue minus cost of goods kept (known costs only)", nullable=False),
        Field("avg_order_value", "decimal", "net revenue / orders_count"),
        Field("first_purchase_at", "datetime", "first purchase"),
        Field("last_purchase_at", "datetime", "last purchase"),
        Field("recency_days", "integer", "whole days since the last purchase (today, UTC)"),
        Field("tenure_days", "integer", "whole days since the first purchase (today, UTC)"),
        Field("complaints", "integer", "tickets of type complaint", nullable=False),
        Field("tickets", "integer", "tickets of any type", nullable=False),
        Field("satisfaction_score", "integer", "the latest survey score (CSAT 1–5 or NPS 0–10)"),
        Field("satisfaction_kind", "enum", "kind of the latest survey", ("csat", "nps")),
        Field("r_score", "integer", "RFM recency score 1–5"),
        Field("f_score", "integer", "RFM frequency score 1–5"),
        Field("m_score", "integer", "RFM monetary score 1–5"),
        Field("rfm_segment", "enum", "RFM segment", RFM_SEGMENTS),
        Field("abc_class", "enum", "ABC class", ABC_CLASSES),
        Field("quadrant", "enum", "loyalty-matrix quadrant", QUADRANTS),
    )
}

OPERATORS: dict[str, tuple[str, ...]] = {
    "integer": ("eq", "ne", "lt", "lte", "gt", "gte", "in", "is_null"),
    "decimal": ("eq", "ne", "lt", "lte", "gt", "gte", "in", "is_null"),
    "datetime": ("eq", "ne", "lt", "lte", "gt", "gte", "in", "is_null"),
    "enum": ("eq", "ne", "in", "not_in", "is_null"),
    "boolean": ("eq", "ne"),
}


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: Any  # already converted: int, Decimal, datetime, str, bool, or a tuple of them


@dataclass(frozen=True)
class HasTag:
    tag: str


@dataclass(frozen=True)
class HasConsent:
    purpose: str


@dataclass(frozen=True)
class Junction:
    kind: Literal["and", "or"]
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class Negation:
    part: Rule


Rule = Comparison | HasTag | HasConsent | Junction | Negation


class RuleError(ValueError):
    """The rule is invalid; ``errors`` lists ``{"field": path, "message": ...}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def parse_rule(raw: Any, path: str = "rule", *, saved: bool = False) -> Rule:
    """Validate ``raw`` (decoded JSON) and return the rule tree, or raise RuleError naming every problem.

    ``saved``: a rule read back from storage, validated when it was saved. Rules saved
    before decimal strings had to match DECIMAL_PATTERN may hold any string ``Decimal``
    reads ("1e3"); they keep working.
    """
    parser = _Parser(lenient_decimals=saved)
    rule = parser.parse(raw, path, depth=1)
    if parser.errors:
        raise RuleError(parser.errors)
    assert rule is not None
    return rule


class _Parser:
    def __init__(self, lenient_decimals: bool = False) -> None:
        self.lenient_decimals = lenient_decimals
        self.errors: list[dict[str, str]] = []
        self.nodes = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.append({"field": path, "message": message})

    def parse(self, raw: Any, path: str, depth: int) -> Rule | None:
        self.nodes += 1
        if depth > MAX_DEPTH:
            self.fail(path, f"rules nest at most {MAX_DEPTH} levels deep")
            return None
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.fail(path, f"a rule has at most {MAX_NODES} nodes")
            return None
        if not isinstance(raw, dict):
            self.fail(path, "must be an object")
            return None
        keys = set(raw)
        if keys & {"and", "or"}:
            return self.junction(raw, path, depth)
        if "not" in keys:
            if keys != {"not"}:
                self.fail(path, f"unexpected member(s) beside 'not': {', '.join(sorted(keys - {'not'}))}")
                return None
            part = self.parse(raw["not"], f"{path}.not", depth + 1)
            return Negation(part) if part is not None else None
        if "tag" in keys:
            return self.string_leaf(raw, path, "tag", lambda value: HasTag(value))
        if "consent" in keys:
            leaf = self.string_leaf(raw, path, "consent", lambda value: HasConsent(value))
            if isinstance(leaf, HasConsent) and leaf.purpose not in CONSENT_PURPOSES:
                self.fail(
                    f"{path}.consent",
                    f"unknown consent purpose {leaf.purpose!r}; one of: {', '.join(CONSENT_PURPOSES)}",
                )
                return None
            return leaf
        if "field" in keys:
            return self.comparison(raw, path)
        self.fail(path, "expected one of the members 'and', 'or', 'not', 'field', 'tag', 'consent'")
        return None

    def junction(self, raw: dict[str, Any], path: str, depth: int) -> Rule | None:
        kind: Literal["and", "or"] = "and" if "and" in raw else "or"
        if set(raw) != {kind}:
            self.fail(path, f"unexpected member(s) beside '{kind}': {', '.join(sorted(set(raw) - {kind}))}")
            return None
        members = raw[kind]
        if not isinstance(members, list) or not members:
            self.fail(f"{path}.{kind}", "must be a non-empty list of rules")
            return None
        parts = [self.parse(member, f"{path}.{kind}[{i}]", depth + 1) for i, member in enumerate(members)]
        checked = [part for part in parts if part is not None]
        if len(checked) != len(parts):
            return None
        return Junction(kind, tuple(checked))

    def string_leaf(self, raw: dict[str, Any], path: str, key: str, build: Callable[[str], Rule]) -> Rule | None:
        if set(raw) != {key}:
            self.fail(path, f"unexpected member(s) beside '{key}': {', '.join(sorted(set(raw) - {key}))}")
            return None
        value = raw[key]
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            self.fail(f"{path}.{key}", "must be a non-empty string of at most 200 characters")
            return None
        return build(value)

    def comparison(self, raw: dict[str, Any], path: str) -> Rule | None:
        extra = set(raw) - {"field", "op", "value"}
        if extra:
            self.fail(path, f"unexpected member(s): {', '.join(sorted(extra))}")
            return None
        name = raw.get("field")
        field = FIELDS.get(name) if isinstance(name, str) else None
        if field is None:
            self.fail(f"{path}.field", f"unknown field {name!r}; known fields: {', '.join(FIELDS)}")
            return None
        op = raw.get("op")
        if op not in OPERATORS[field.type]:
            self.fail(
                f"{path}.op",
                f"operator {op!r} does not apply to {field.type} field {field.name!r}; use one of: {', '.join(OPERATORS[field.type])}",
            )
            return None
        if "value" not in raw:
            self.fail(f"{path}.value", "is required")
            return None
        value = raw["value"]
        value_path = f"{path}.value"
        if op == "is_null":
            if not isinstance(value, bool):
                self.fail(value_path, "is_null takes true or false")
                return None
            return Comparison(field.name, op, value)
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > 1000:
                self.fail(value_path, f"'{op}' takes a non-empty list of at most 1000 values")
                return None
            converted = [self.convert(field, item, f"{value_path}[{i}]") for i, item in enumerate(value)]
            if any(item is _INVALID for item in converted):
                return None
            return Comparison(field.name, op, tuple(converted))
        converted = self.convert(field, value, value_path)
        if converted is _INVALID:
            return None
        return Comparison(field.name, op, converted)

    def convert(self, field: Field, value: Any, path: str) -> Any:
        if field.type == "integer":
            # JSON Schema's integer is any number without a fraction: 3.0 is the integer 3.
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
                self.fail(path, f"field {field.name!r} is an integer; got {_describe(value)}")
                return _INVALID
            return value
        if field.type == "decimal":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self.fail(
                    path,
                    f'field {field.name!r} is a decimal (a decimal string such as "100.50"); got {_describe(value)}',
                )
                return _INVALID
            number = None
            if not isinstance(value, str) or self.lenient_decimals or re.fullmatch(DECIMAL_PATTERN, value):
                try:
                    number = Decimal(str(value))
                except InvalidOperation:
                    number = None
            if number is None or not number.is_finite() or abs(number) >= Decimal(10) ** 14:
                self.fail(
                    path,
                    f'field {field.name!r} is a decimal (a decimal string such as "100.50"); got {_describe(value)}',
                )
                return _INVALID
            return number
        if field.type == "datetime":
            moment = None
            if isinstance(value, str):
                try:
                    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    moment = None
            if moment is None or moment.tzinfo is None:
                self.fail(
                    path, f"field {field.name!r} is a date-time (RFC 3339 with a time zone); got {_describe(value)}"
                )
                return _INVALID
            return moment
        if field.type == "enum":
            if not isinstance(value, str) or value not in field.values:
                self.fail(path, f"field {field.name!r} takes one of: {', '.join(field.values)}; got {_describe(value)}")
                return _INVALID
            return value
        if not isinstance(value, bool):
            self.fail(path, f"field {field.name!r} is a boolean; got {_describe(value)}")
            return _INVALID
        return value


_INVALID = object()


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
