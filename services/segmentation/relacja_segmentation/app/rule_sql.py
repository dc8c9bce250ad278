"""Compile a validated rule (domain/rules.py) to a SQL condition on ``customer_profiles``.

Every value becomes a named bound parameter (``<prefix>p<n>``); the SQL text holds only
column names and operators chosen from fixed tables, never anything a client typed. The
prefix lets several compiled rules share one statement.

Logic is two-valued: a comparison on a field that is null (e.g. ``rfm_segment`` of a
customer without purchases) is false, so ``{"not": ...}`` of it is true — what a marketer
expects from "not a champion". Only ``is_null`` tests for null itself.

Erased customers are never members: a segment is an audience, and an erased customer can
no longer be addressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY

from ..domain.rules import FIELDS, Comparison, HasConsent, HasTag, Junction, Negation, Rule
from ..tables import customer_profiles as p

__all__ = ["CompiledRule", "compile_rule", "field_expression"]

_DIALECT = postgresql.dialect(paramstyle="named")

_UTC: sa.ColumnElement[str] = sa.literal_column("'UTC'")
_TODAY_UTC = sa.cast(sa.func.timezone(_UTC, sa.func.now()), sa.Date)
# The dialect renders typed binds as ":name::TYPE", which text() would misread as a
# parameter named up to the first colon; CAST(:name AS TYPE) says the same unambiguously.
_BIND_CAST = re.compile(r":(\w+)::([A-Z][A-Z ]*(?:\[\])?)")


def field_expression(name: str) -> sa.ColumnElement[Any]:
    """The SQL expression of a rule field (a column, or days computed from one)."""
    if name == "recency_days":
        return sa.type_coerce(_TODAY_UTC - sa.cast(sa.func.timezone(_UTC, p.c.last_purchase_at), sa.Date), sa.Integer)
    if name == "tenure_days":
        return sa.type_coerce(_TODAY_UTC - sa.cast(sa.func.timezone(_UTC, p.c.first_purchase_at), sa.Date), sa.Integer)
    return p.c[name]


@dataclass(frozen=True)
class CompiledRule:
    sql: str  # a boolean SQL expression over customer_profiles (no table alias)
    params: dict[str, Any]

    def where(self) -> sa.TextClause:
        return sa.text(self.sql).bindparams(**self.params)


class _Compiler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def bind(self, value: Any, type_: sa.types.TypeEngine) -> sa.BindParameter[Any]:
        self.count += 1
        return sa.bindparam(f"{self.prefix}p{self.count}", value, type_=type_)

    def compile(self, rule: Rule) -> sa.ColumnElement[bool]:
        if isinstance(rule, Junction):
            parts = [self.compile(part) for part in rule.parts]
            return sa.and_(*parts) if rule.kind == "and" else sa.or_(*parts)
        if isinstance(rule, Negation):
            return sa.not_(self.compile(rule.part))
        if isinstance(rule, HasTag):
            return sa.func.coalesce(p.c.tags.contains(self.bind([rule.tag], ARRAY(sa.Text))), sa.false())
        if isinstance(rule, HasConsent):
            return sa.func.coalesce(p.c.consents.contains(self.bind([rule.purpose], ARRAY(sa.Text))), sa.false())
        return self.comparison(rule)

    def comparison(self, rule: Comparison) -> sa.ColumnElement[bool]:
        column = field_expression(rule.field)
        kind = FIELDS[rule.field].type
        value_types: dict[str, sa.types.TypeEngine[Any]] = {
            "integer": sa.Integer(),
            "decimal": sa.Numeric(),
            "datetime": sa.DateTime(timezone=True),
        }
        value_type = value_types.get(kind, sa.Text())
        if rule.op == "is_null":
            return column.is_(None) if rule.value else column.is_not(None)
        if rule.op in ("in", "not_in"):
            matches = column == sa.any_(self.bind(list(rule.value), ARRAY(value_type)))
            condition = matches if rule.op == "in" else sa.not_(matches)
        else:
            value = self.bind(rule.value, value_type)
            condition = {
                "eq": column == value,
                "ne": column != value,
                "lt": column < value,
                "lte": column <= value,
                "gt": column > value,
                "gte": column >= value,
            }[rule.op]
        # Null fields make a comparison false rather than unknown (see module doc).
        return sa.func.coalesce(condition, sa.false())


def compile_rule(rule: Rule, prefix: str = "r") -> CompiledRule:
    compiler = _Compiler(prefix)
    condition = sa.and_(compiler.compile(rule), p.c.erased.is_(False))
    compiled = condition.compile(dialect=_DIALECT)
    sql = _BIND_CAST.sub(r"CAST(:\1 AS \2)", str(compiled).replace("customer_profiles.", ""))
    return CompiledRule(sql=sql, params=dict(compiled.params))
