"""The rule language as pydantic models, so the OpenAPI document shows a rule's real shape.

    SegmentRule        RuleAnd | RuleOr | RuleNot | RuleTag | RuleConsent | one condition per
                       field and operator family (generated from domain.rules.FIELDS/OPERATORS)
    RuleInput          SegmentRule for a request body: the schema is declared, but validation
                       is left to domain.rules.parse_rule, whose errors name each member by its
                       JSON path (``body.rule.and[1].field``) where a union of models would list
                       every alternative's complaint

A condition model per field keeps the schema exact: ``{"field": "abc_class", "op": "in",
"value": ["A", "B"]}`` only allows that field's enum values, an integer field only
integers. What JSON Schema cannot say (at most 10 levels and 200 nodes) the parser checks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, create_model

from ..domain.rules import CONSENT_PURPOSES, DECIMAL_PATTERN, FIELDS, MAX_NODES, OPERATORS

__all__ = ["SegmentRule", "RuleInput", "RULE_DESCRIPTION"]

RULE_DESCRIPTION = (
    "A rule of the segment language (GET .../segments/fields lists the fields; docs/segmentation.md): "
    f"and / or / not, a field comparison, a tag or a consent; at most 10 levels and {MAX_NODES} nodes."
)

_INT32 = 2**31 - 1
_DECIMAL_LIMIT = Decimal(10) ** 14
_IN_MAX = 1000

_Integer = Annotated[int, Field(ge=-_INT32, le=_INT32)]
# As domain.rules checks it: a plain decimal string, or any JSON number below 10^14 in magnitude.
_Decimal = (
    Annotated[str, Field(pattern=DECIMAL_PATTERN, examples=["100.50"])]
    | Annotated[int, Field(gt=-_DECIMAL_LIMIT, lt=_DECIMAL_LIMIT)]
    | Annotated[float, Field(gt=-_DECIMAL_LIMIT, lt=_DECIMAL_LIMIT)]
)
_DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-01-31T00:00:00Z"])]
_VALUE_TYPES: dict[str, Any] = {"integer": _Integer, "decimal": _Decimal, "datetime": _DateTime, "boolean": bool}

_FORBID = ConfigDict(extra="forbid")


class RuleAnd(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    and_: list[SegmentRule] = Field(alias="and", min_length=1, description="All of them")


class RuleOr(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    or_: list[SegmentRule] = Field(alias="or", min_length=1, description="Any of them")


class RuleNot(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_: SegmentRule = Field(alias="not")


class RuleTag(BaseModel):
    model_config = _FORBID
    tag: str = Field(min_length=1, max_length=200, pattern=r"\S", description="The customer carries this tag")


class RuleConsent(BaseModel):
    model_config = _FORBID
    consent: Literal[CONSENT_PURPOSES] = Field(description="The customer has granted consent for this purpose")  # type: ignore[valid-type]  # a tuple of literals built at import


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _condition_models() -> list[type[BaseModel]]:
    """One model per field and operator family: compare (one value), in/not_in (a list), is_null (a flag)."""
    models: list[type[BaseModel]] = []
    for field in FIELDS.values():
        # Types built at run time from the domain's table: Any to the type checker.
        value_type: Any = Literal[field.values] if field.type == "enum" else _VALUE_TYPES[field.type]
        operators = OPERATORS[field.type]
        families: list[tuple[str, tuple[str, ...], Any]] = [
            ("", tuple(op for op in operators if op not in ("in", "not_in", "is_null")), value_type),
            (
                "In",
                tuple(op for op in operators if op in ("in", "not_in")),
                Annotated[list[value_type], Field(min_length=1, max_length=_IN_MAX)],
            ),
            ("IsNull", tuple(op for op in operators if op == "is_null"), bool),
        ]
        for suffix, ops, value in families:
            if not ops:
                continue
            field_name: Any = Literal[field.name]
            operator: Any = Literal[ops]
            models.append(
                create_model(
                    f"Rule{_camel(field.name)}{suffix}",
                    __config__=_FORBID,
                    __doc__=f"{field.name}: {field.description}",
                    field=(field_name, ...),
                    op=(operator, ...),
                    value=(value, ...),
                )
            )
    return models


_CONDITIONS = tuple(_condition_models())

SegmentRule = Union[(RuleAnd, RuleOr, RuleNot, RuleTag, RuleConsent, *_CONDITIONS)]  # type: ignore[valid-type]  # the conditions are generated

for _model in (RuleAnd, RuleOr, RuleNot):
    _model.model_rebuild()

RuleInput = Annotated[SegmentRule, SkipValidation, Field(description=RULE_DESCRIPTION)]
