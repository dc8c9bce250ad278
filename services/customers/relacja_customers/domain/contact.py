"""Normalisation of contact data, so that duplicates are found whatever the spelling."""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_email", "normalize_display_name"]


def normalize_email(email: str | None) -> str | None:
    """Trimmed and lower-cased, the domain IDNA-folded by the validator before this.

    The local part is lower-cased too: RFC 5321 lets it be case-sensitive, but no
    mainstream mailbox provider treats it so, and two records differing only in case are
    duplicates in practice.
    """
    if email is None:
        return None
    email = email.strip().lower()
    return email or None


def normalize_display_name(name: str) -> str:
    """NFC-normalised with runs of white space folded to one space."""
    return " ".join(unicodedata.normalize("NFC", name).split())
