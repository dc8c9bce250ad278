"""The rule language's OpenAPI models (api/rule_models.py) agree with its parser
(domain/rules.py): what the parser accepts validates as a SegmentRule and round-trips
unchanged (a saved rule is answered as it was sent), and what the schema forbids the
parser refuses, so a client reading the OpenAPI document is not misled either way."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from relacja_segmentation.api.rule_models import SegmentRule
from relacja_segmentation.domain.rules import FIELDS, OPERATORS, Comparison, RuleError, parse_rule

RULE = TypeAdapter(SegmentRule)

SAMPLE = {"integer": 3, "decimal": "12.50", "datetime": "2026-01-01T00:00:00Z"}


def value_for(name: str, op: str):
    field = FIELDS[name]
    if op == "is_null":
        return False
    one = field.values[-1] if field.type == "enum" else SAMPLE[field.type]
    return [one] if op in ("in", "not_in") else one


ACCEPTED = [
    {"field": name, "op": op, "value": value_for(name, op)}
    for name, field in FIELDS.items()
    for op in OPERATORS[field.type]
] + [
    {
        "and": [
            {"tag": "vip"},
            {"or": [{"consent": "email_marketing"}, {"not": {"field": "net_revenue", "op": "gte", "value": 100}}]},
        ]
    },
    {"field": "margin", "op": "lt", "value": -12.5},
    {"field": "net_revenue", "op": "in", "value": ["1", 2, "3.25"]},
]


@pytest.mark.parametrize("rule", ACCEPTED, ids=range(len(ACCEPTED)))
def test_what_the_parser_accepts_the_schema_accepts_and_answers_unchanged(rule) -> None:
    parse_rule(rule)
    assert RULE.dump_python(RULE.validate_python(rule), mode="json", by_alias=True) == rule


REFUSED = [
    {"field": "shoe_size", "op": "eq", "value": 1},
    {"field": "purchases", "op": "gte", "value": "3"},
    {"field": "purchases", "op": "gte", "value": 2**31},
    {"field": "abc_class", "op": "eq", "value": "D"},
    {"field": "abc_class", "op": "gt", "value": "A"},
    {"field": "rfm_segment", "op": "in", "value": []},
    {"field": "net_revenue", "op": "gt", "value": "1e3"},  # a decimal string has no exponent
    {"field": "net_revenue", "op": "gt", "value": "100000000000000"},
    {"field": "quadrant", "op": "is_null", "value": "yes"},
    {"tag": " "},
    {"tag": "x", "extra": 1},
    {"consent": "telepathy"},
    {"and": []},
    {"not": {"tag": "a"}, "tag": "b"},
    {},
]


@pytest.mark.parametrize("rule", REFUSED, ids=range(len(REFUSED)))
def test_what_the_schema_forbids_the_parser_refuses(rule) -> None:
    with pytest.raises(ValidationError):
        RULE.validate_python(rule, strict=True)  # JSON Schema types do not coerce
    with pytest.raises(RuleError):
        parse_rule(rule)


def test_a_rule_in_the_schema_names_its_field_and_operators() -> None:
    definitions = RULE.json_schema(by_alias=True)["$defs"]
    enum_in = definitions["RuleAbcClassIn"]["properties"]
    assert enum_in["field"]["const"] == "abc_class" and enum_in["op"]["enum"] == ["in", "not_in"]
    assert enum_in["value"]["items"]["enum"] == ["A", "B", "C"]
    assert (
        set(definitions["RuleAnd"]["properties"]) == {"and"} and definitions["RuleAnd"]["additionalProperties"] is False
    )


def test_a_rule_saved_before_decimal_strings_were_checked_still_parses() -> None:
    """Saved rules are re-parsed at every recomputation: one saved with "1e3" must not break it."""
    rule = parse_rule({"field": "net_revenue", "op": "gte", "value": "1e3"}, saved=True)
    assert isinstance(rule, Comparison) and rule.value == 1000
    with pytest.raises(RuleError):
        parse_rule({"field": "net_revenue", "op": "gte", "value": "1e3"})
