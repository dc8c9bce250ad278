"""What a merge of two customer records keeps (``POST /customers/{id}/merge``).

The *survivor* (the record merged into) absorbs the *other*, which is then deleted:

- single-valued fields (names, e-mail, phone, language, birth date, owner, external id,
  company): the survivor's value; the other's only fills a field the survivor lacks.
  A differing value of the other is dropped from the record — it stays readable in the
  other's event history, which moves to the survivor;
- the display name: the survivor's, unless it was derived from names the merge fills
  in (then it is derived again, see ``customer.apply_changes``);
- tags and addresses: the union (survivor's first, no repeats);
- custom attributes: the survivor's, plus the other's attributes it does not have;
- lifecycle stage: the one of the relationship that went further
  (customer > inactive > prospect > lead), since both records describe one customer.

Both records must be of the same kind: a person and a company are never one customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .customer import apply_changes, unique
from .lifecycle import more_advanced

__all__ = ["merge_changes", "merged_fields"]

_SINGLE = (
    "given_name",
    "family_name",
    "legal_name",
    "email",
    "phone",
    "preferred_language",
    "birth_date",
    "owner_id",
    "external_id",
    "company_id",
)


def merge_changes(survivor: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """The changes to the survivor's fields that absorb ``other`` (only fields that change)."""
    changes: dict[str, Any] = {}
    for name in _SINGLE:
        if survivor.get(name) is None and other.get(name) is not None:
            changes[name] = other[name]
    tags = sorted(set(survivor.get("tags") or []) | set(other.get("tags") or []))
    if tags != sorted(survivor.get("tags") or []):
        changes["tags"] = tags
    addresses = unique([*(survivor.get("addresses") or []), *(other.get("addresses") or [])])
    if addresses != list(survivor.get("addresses") or []):
        changes["addresses"] = addresses
    own = survivor.get("custom_attributes") or {}
    missing = {k: v for k, v in (other.get("custom_attributes") or {}).items() if k not in own}
    if missing:
        changes["custom_attributes"] = missing
    stage = more_advanced(survivor["lifecycle_stage"], other["lifecycle_stage"])
    if stage != survivor["lifecycle_stage"]:
        changes["lifecycle_stage"] = stage
    return changes


def merged_fields(kind: str, survivor: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """The survivor's fields after the merge."""
    return apply_changes(kind, survivor, merge_changes(survivor, other))
