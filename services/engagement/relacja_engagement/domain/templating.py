"""Templates: Jinja2's sandbox, a fixed set of variables, checked when saved.

The variables a template may use:

    customer.display_name, customer.given_name, customer.email, customer.phone,
    customer.preferred_language
    coupon_code      the personal coupon the trigger or campaign asked the loyalty service for
    review_url       the tokenised review link (trigger action ``request_review``)
    event.<name>     what the triggering event gives (see EVENT_FIELDS), e.g. event.order_number

At save time (:func:`check`) a template is parsed, every variable and attribute it names
must be one of these, ``include`` / ``import`` / ``extends`` are refused (a template is
self-contained), and it is rendered once with sample values in the sandbox, which refuses
unsafe constructs (``__class__``, ``mro`` ...). Rendering uses ``StrictUndefined``: a value
missing at send time is an error, never a blank in a sent message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

__all__ = [
    "CUSTOMER_FIELDS",
    "EVENT_FIELDS",
    "TOP_LEVEL",
    "TemplateProblem",
    "check",
    "pick_language",
    "render",
    "sample_variables",
]

CUSTOMER_FIELDS = frozenset({"display_name", "given_name", "email", "phone", "preferred_language"})
EVENT_FIELDS = frozenset(
    {
        "order_id",
        "order_number",
        "total_amount",
        "currency",
        "important_date_kind",
        "label",
        "occurs_on",
        "segment_name",
        "risk_tier",
        "tier",
        "ticket_id",
    }
)
TOP_LEVEL = frozenset({"customer", "coupon_code", "review_url", "event"})
_NAMESPACES = {"customer": CUSTOMER_FIELDS, "event": EVENT_FIELDS}

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class TemplateProblem:
    message: str


def sample_variables() -> dict[str, Any]:
    return {
        "customer": {name: f"<{name}>" for name in CUSTOMER_FIELDS},
        "coupon_code": "SAMPLE-COUPON",
        "review_url": "https://example.com/review/SAMPLE",
        "event": {name: f"<{name}>" for name in EVENT_FIELDS},
    }


def check(source: str) -> list[TemplateProblem]:
    """What is wrong with a template's source (empty: it may be saved)."""
    try:
        tree = _env.parse(source)
    except TemplateError as exc:
        return [TemplateProblem(f"syntax error: {exc}")]
    problems: list[TemplateProblem] = []
    for kind in (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends):
        if any(True for _ in tree.find_all(kind)):
            problems.append(TemplateProblem(f"unsafe construct: {kind.__name__.lower()} is not allowed"))
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in sorted({n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - assigned):
        if name not in TOP_LEVEL and name not in {"true", "false", "none", "loop"}:
            problems.append(TemplateProblem(f"unknown variable: {name}"))
    for node in tree.find_all(nodes.Getattr):
        namespace = node.node.name if isinstance(node.node, nodes.Name) else None
        if namespace in _NAMESPACES and node.attr not in _NAMESPACES[namespace]:
            problems.append(TemplateProblem(f"unknown variable: {namespace}.{node.attr}"))
    for item in tree.find_all(nodes.Getitem):
        namespace = item.node.name if isinstance(item.node, nodes.Name) else None
        key = item.arg.value if isinstance(item.arg, nodes.Const) else None
        if namespace in _NAMESPACES and key not in _NAMESPACES[namespace]:
            problems.append(TemplateProblem(f"unknown variable: {namespace}[{key!r}]"))
    if problems:
        return problems
    try:
        _env.from_string(tree).render(sample_variables())
    except SecurityError as exc:
        return [TemplateProblem(f"unsafe construct: {exc}")]
    except TemplateError as exc:
        return [TemplateProblem(f"does not render: {exc}")]
    except Exception as exc:
        return [TemplateProblem(f"does not render: {type(exc).__name__}: {exc}")]
    return []


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    # Compiling is most of a render's cost; a campaign renders one template many times.
    return _env.from_string(source)


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render a checked template; raises ``TemplateError`` (e.g. ``UndefinedError``) on a missing value."""
    return _compiled(source).render(dict(variables))


def pick_language(available: Mapping[str, Any], preferred: str | None, fallback: str) -> str:
    """The customer's preferred language, then its primary subtag (``en-GB`` → ``en``), then the fallback."""
    if preferred:
        if preferred in available:
            return preferred
        primary = preferred.split("-")[0].lower()
        for language in available:
            if language.lower() == primary or language.split("-")[0].lower() == primary:
                return language
    return fallback
