"""The customer record as plain data, and the rules every write path applies to it.

A record's *fields* are a dict keyed by :data:`FIELDS` holding what is stored: text,
``date``, ``UUID``, sorted tag lists, addresses as JSON objects and custom attributes as
``{name: {"type", "value"}}`` JSON. ``kind`` is fixed at creation and kept apart.

    apply_changes     a partial change (JSON merge patch, RFC 7396) applied to fields
    check_fields      cross-field rules (person-only and company-only fields, a display name)
    changed_fields    which fields differ between two versions (the updated event lists them)
    derive_display_name, derived_columns, search_tokens
                      the display name and the search/duplicate keys stored beside the fields
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .contact import normalize_display_name, normalize_email

__all__ = [
    "FIELDS",
    "PERSON_ONLY",
    "COMPANY_ONLY",
    "apply_changes",
    "changed_fields",
    "check_fields",
    "derive_display_name",
    "derived_columns",
    "fold",
    "search_tokens",
    "like_pattern",
    "MIN_SEARCH_TOKEN",
    "unique",
]

FIELDS: tuple[str, ...] = (
    "display_name",
    "given_name",
    "family_name",
    "legal_name",
    "email",
    "phone",
    "addresses",
    "preferred_language",
    "birth_date",
    "lifecycle_stage",
    "owner_id",
    "external_id",
    "company_id",
    "tags",
    "custom_attributes",
)
PERSON_ONLY = ("given_name", "family_name", "birth_date", "company_id")
COMPANY_ONLY = ("legal_name",)

# What ``null`` (RFC 7396: remove the member) leaves in a field that is never null.
_EMPTY: dict[str, Any] = {"addresses": [], "tags": [], "custom_attributes": {}}
_REQUIRED = ("lifecycle_stage",)


def derive_display_name(kind: str, fields: Mapping[str, Any]) -> str:
    """``given family`` for a person, the legal name for a company; ``""`` when there are no names."""
    parts = [fields.get("legal_name")] if kind == "company" else [fields.get("given_name"), fields.get("family_name")]
    return normalize_display_name(" ".join(p for p in parts if p))


def apply_changes(kind: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes`` applied, as a JSON merge patch (RFC 7396) would:

    - a field present in ``changes`` replaces the stored one; ``None`` clears it (lists
      and objects become empty);
    - ``custom_attributes`` is merged by attribute name: ``{"vip": null}`` removes one
      attribute, ``{"score": {...}}`` sets one, the others stay (each attribute is
      replaced whole: its type and value belong together);
    - the display name follows the names while it is the derived one: if it was not
      changed and equals the name derived before, it is derived again. A display name
      set by hand (or cleared with ``null``, which asks for the derived one) is kept.
    """
    fields = {name: current.get(name, _EMPTY.get(name)) for name in FIELDS}
    for name, value in changes.items():
        if name == "custom_attributes" and value is not None:
            merged = dict(fields["custom_attributes"] or {})
            for attribute, attribute_value in value.items():
                if attribute_value is None:
                    merged.pop(attribute, None)
                else:
                    merged[attribute] = attribute_value
            fields[name] = merged
        elif value is None and name in _EMPTY:
            fields[name] = type(_EMPTY[name])()
        else:
            fields[name] = value
    if fields["tags"]:
        fields["tags"] = sorted(set(fields["tags"]))
    if "display_name" in changes and changes["display_name"] is not None:
        fields["display_name"] = normalize_display_name(changes["display_name"])
    elif "display_name" in changes or current.get("display_name") in (None, "", derive_display_name(kind, current)):
        fields["display_name"] = derive_display_name(kind, fields)
    return fields


def check_fields(kind: str, fields: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rules across fields, as ``{"field", "message"}`` errors (empty when the record is valid)."""
    errors: list[dict[str, str]] = []
    wrong_kind = PERSON_ONLY if kind == "company" else COMPANY_ONLY
    for name in wrong_kind:
        if fields.get(name) is not None:
            errors.append({"field": name, "message": f"not allowed for a {kind}"})
    if not fields.get("display_name"):
        needed = "legal_name" if kind == "company" else "given_name or family_name"
        errors.append({"field": "display_name", "message": f"required when there is no {needed}"})
    for name in _REQUIRED:
        if fields.get(name) is None:
            errors.append({"field": name, "message": "cannot be null"})
    return errors


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [name for name in FIELDS if before.get(name, _EMPTY.get(name)) != after.get(name, _EMPTY.get(name))]


# -- search and duplicate keys ------------------------------------------------------------

# Letters NFKD does not decompose into a base letter and a mark.
_FOLD_EXTRA = {
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ı": "i",
    "ŧ": "t",
    "þ": "th",
    "æ": "ae",
    "œ": "oe",
    "ß": "ss",
}
MIN_SEARCH_TOKEN = 3  # pg_trgm indexes trigrams: a shorter fragment cannot use the index


class _FoldTable(dict[int, str]):
    """``str.translate`` table built lazily: each character's folded form, computed once."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", char)
        folded = "".join(_FOLD_EXTRA.get(c, c) for c in decomposed if not unicodedata.combining(c))
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower case without diacritics, white space folded: ``"Łukasz  Żółć"`` → ``"lukasz zolc"``."""
    lowered = text.casefold()
    return " ".join((lowered if lowered.isascii() else lowered.translate(_FOLD)).split())


def _digits(text: str) -> str:
    return "".join(filter(str.isdigit, text))


def derived_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns stored beside the fields: the e-mail duplicate key and the search keys.

    ``name_key`` (the folded display name) is compared with ``pg_trgm`` similarity to
    find duplicates; ``search_text`` is what ``?q=`` matches: the folded names and
    e-mail, and the phone's digits (``48600123456``) so a number typed with or without
    spaces or country code is found.
    """
    email = normalize_email(fields.get("email"))
    names = [fields.get(n) for n in ("display_name", "given_name", "family_name", "legal_name")]
    searchable = [n for n in names if n] + ([email] if email else [])
    phone = fields.get("phone")
    return {
        "email_normalized": email,
        "name_key": fold(fields.get("display_name") or ""),
        "search_text": " ".join(
            [fold(" ".join(searchable))] + ([phone.lstrip("+")] if phone else [])
        ),  # phone is E.164
    }


def _is_phone_like(text: str) -> bool:
    return bool(text) and all(c.isdigit() or c in " +-()./" for c in text) and len(_digits(text)) >= MIN_SEARCH_TOKEN


def search_tokens(q: str) -> list[str]:
    """The fragments a search for ``q`` must all find (folded like ``search_text``).

    A query that looks like a phone number becomes one run of digits (``+48 600 123``
    → ``48600123``); otherwise each word is a fragment. Returns ``[]`` when no fragment
    is at least :data:`MIN_SEARCH_TOKEN` characters long (such a search cannot use the
    trigram index and would scan every row).
    """
    stripped = q.strip()
    if _is_phone_like(stripped):
        tokens = [_digits(stripped).lstrip("0") or "0"]
    else:
        tokens = list(dict.fromkeys(fold(stripped).split()))
    return tokens if any(len(t) >= MIN_SEARCH_TOKEN for t in tokens) else []


def like_pattern(token: str) -> str:
    """``%token%`` for ``LIKE ... ESCAPE '\\'``, with the token's own wildcards escaped."""
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def unique(values: Iterable[Any]) -> list[Any]:
    """``values`` without repeats, first occurrence kept (works for unhashable JSON objects)."""
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
