"""The rule language: parsing, validation errors naming the field, and SQL compilation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from relacja_segmentation.app.rule_sql import compile_rule
from relacja_segmentation.domain.rules import Comparison, HasConsent, HasTag, Junction, Negation, RuleError, parse_rule


def errors_of(raw) -> list[dict[str, str]]:
    with pytest.raises(RuleError) as caught:
        parse_rule(raw)
    return caught.value.errors


def test_a_nested_rule_parses_into_typed_values() -> None:
    rule = parse_rule(
        {
            "and": [
                {"field": "net_revenue", "op": "gte", "value": "100.50"},
                {"or": [{"tag": "vip"}, {"consent": "email_marketing"}]},
                {"not": {"field": "rfm_segment", "op": "in", "value": ["lost", "hibernating"]}},
                {"field": "last_purchase_at", "op": "gt", "value": "2026-01-01T00:00:00Z"},
            ]
        }
    )
    assert isinstance(rule, Junction) and rule.kind == "and"
    revenue, either, negation, moment = rule.parts
    assert revenue == Comparison("net_revenue", "gte", Decimal("100.50"))
    assert either == Junction("or", (HasTag("vip"), HasConsent("email_marketing")))
    assert negation == Negation(Comparison("rfm_segment", "in", ("lost", "hibernating")))
    assert moment == Comparison("last_purchase_at", "gt", datetime(2026, 1, 1, tzinfo=UTC))


def test_unknown_field_is_named_by_its_path() -> None:
    errors = errors_of({"and": [{"tag": "x"}, {"field": "shoe_size", "op": "eq", "value": 42}]})
    assert errors[0]["field"] == "rule.and[1].field"
    assert "shoe_size" in errors[0]["message"]


@pytest.mark.parametrize(
    ("comparison", "path"),
    [
        ({"field": "purchases", "op": "gte", "value": "3"}, "rule.value"),
        ({"field": "purchases", "op": "gte", "value": 2.5}, "rule.value"),
        ({"field": "purchases", "op": "gte", "value": True}, "rule.value"),
        ({"field": "net_revenue", "op": "gt", "value": "lots"}, "rule.value"),
        ({"field": "net_revenue", "op": "gt", "value": "NaN"}, "rule.value"),
        ({"field": "last_purchase_at", "op": "gt", "value": "2026-01-01T00:00:00"}, "rule.value"),  # no zone
        ({"field": "abc_class", "op": "eq", "value": "D"}, "rule.value"),
        ({"field": "rfm_segment", "op": "in", "value": ["champions", 3]}, "rule.value[1]"),
        ({"field": "rfm_segment", "op": "in", "value": []}, "rule.value"),
        ({"field": "rfm_segment", "op": "gt", "value": "loyal"}, "rule.op"),
        ({"field": "quadrant", "op": "eq"}, "rule.value"),
        ({"field": "quadrant", "op": "is_null", "value": "yes"}, "rule.value"),
    ],
)
def test_wrong_types_and_operators_are_named(comparison, path) -> None:
    errors = errors_of(comparison)
    assert [e["field"] for e in errors] == [path]


def test_structural_errors() -> None:
    assert errors_of([])[0]["field"] == "rule"
    assert errors_of({"and": []})[0]["field"] == "rule.and"
    assert errors_of({"and": [{"tag": "a"}], "or": [{"tag": "b"}]})[0]["field"] == "rule"
    assert errors_of({"nope": 1})[0]["field"] == "rule"
    assert errors_of({"tag": ""})[0]["field"] == "rule.tag"
    assert errors_of({"consent": "telepathy"})[0]["field"] == "rule.consent"
    assert errors_of({"field": "tags", "op": "eq", "value": "x", "extra": 1})[0]["field"] == "rule"


def test_every_error_is_reported_at_once() -> None:
    errors = errors_of(
        {"or": [{"field": "nope", "op": "eq", "value": 1}, {"field": "purchases", "op": "lt", "value": "x"}]}
    )
    assert [e["field"] for e in errors] == ["rule.or[0].field", "rule.or[1].value"]


def test_depth_and_size_are_limited() -> None:
    deep: dict = {"tag": "x"}
    for _ in range(12):
        deep = {"not": deep}
    assert "levels" in errors_of(deep)[0]["message"]
    wide = {"or": [{"tag": f"t{i}"} for i in range(300)]}
    assert "nodes" in errors_of(wide)[0]["message"]


def test_compiled_sql_carries_values_only_as_parameters() -> None:
    hostile = "x'); DROP TABLE segments; --"
    rule = parse_rule({"and": [{"tag": hostile}, {"field": "net_revenue", "op": "gte", "value": "10"}]})
    compiled = compile_rule(rule, prefix="s0_")
    assert hostile not in compiled.sql
    assert "DROP" not in compiled.sql
    assert compiled.params == {"s0_p1": [hostile], "s0_p2": Decimal("10")}
    assert compiled.sql.endswith("erased IS false")


def test_prefixes_keep_parameters_of_several_rules_apart() -> None:
    rule = parse_rule({"field": "purchases", "op": "gte", "value": 2})
    assert set(compile_rule(rule, "a_").params) == {"a_p1"}
    assert set(compile_rule(rule, "b_").params) == {"b_p1"}


def test_an_integral_json_number_is_an_integer() -> None:
    # JSON Schema's integer admits 3.0; the rule keeps it as the integer 3.
    rule = parse_rule({"field": "purchases", "op": "in", "value": [3.0, 4]})
    assert isinstance(rule, Comparison)
    assert rule.value == (3, 4) or rule.value == [3, 4]
    assert all(type(item) is int for item in rule.value)
