"""Normalisation of contact data, so that duplicates are found whatever the spelling.

validate_email_address   a deliverable-looking address (``email-validator``), domain normalised
normalize_email          lower-cased, trimmed: the duplicate key of an e-mail address
normalize_phone          E.164 (``+48600123456``) via ``phonenumbers``; the duplicate key of a phone
normalize_language       a well-formed BCP 47 tag in its canonical case (``pt-BR``, ``zh-Hant-TW``)
normalize_country        an ISO 3166-1 alpha-2 code, upper-cased
normalize_display_name   NFC with white space folded
"""

from __future__ import annotations

import functools
import re
import unicodedata

import email_validator
import phonenumbers

from .countries import ISO_3166_ALPHA_2

__all__ = [
    "normalize_country",
    "normalize_display_name",
    "normalize_email",
    "normalize_language",
    "normalize_phone",
    "validate_email_address",
]

# RFC 5322 dot-atom of ASCII characters: the local part of nearly every real address.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@functools.lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    return email_validator.validate_email(f"x@{domain}", check_deliverability=False).domain


def validate_email_address(address: str) -> str:
    """The address as ``email-validator`` normalises it (the domain lower-cased and IDNA
    folded, the local part kept); ``ValueError`` with its reason when it is not valid.

    The common case — an ASCII dot-atom local part — is checked here and only the domain
    goes through ``email-validator``, cached: a bulk import repeats a few domains
    thousands of times, and validating each whole address was a third of its time.
    Anything else (quoted or internationalised local parts) takes the full validation.
    """
    try:
        local, at, domain = address.rpartition("@")
        if at and len(local) <= 64 and len(address) <= 254 and _DOT_ATOM.match(local):
            normalized = f"{local}@{_email_domain(domain)}"
            if len(normalized) <= 254:
                return normalized
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as err:
        raise ValueError(f"value is not a valid email address: {err}") from None


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


def normalize_phone(raw: str, default_region: str) -> str:
    """``raw`` as E.164, read in ``default_region`` unless it starts with ``+`` or ``00``.

    Raises ``ValueError`` for text that is not a phone number or a number that cannot
    exist (``phonenumbers.is_valid_number``: right length and prefix for its region).
    """
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# RFC 5646 §2.1 "langtag" (the grandfathered and irregular tags are not accepted).
_LANGTAG = re.compile(
    r"""^
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
    (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*
    (?:-x(?:-[a-z0-9]{1,8})+)?
    $""",
    re.VERBOSE,
)


def normalize_language(tag: str) -> str:
    """A well-formed BCP 47 language tag in the case RFC 5646 §2.1.1 recommends.

    Well-formedness is checked (the syntax), not validity against the IANA subtag
    registry: a tag like ``xx`` is accepted. ``_`` is accepted for ``-`` (``pl_PL``).
    """
    lowered = tag.strip().replace("_", "-").lower()
    match = _LANGTAG.match(lowered)
    if not match:
        raise ValueError("not a BCP 47 language tag (e.g. 'pl', 'en-GB', 'zh-Hant-TW')")
    out: list[str] = []
    in_extension = False  # after a singleton (an extension or x-) every subtag stays lower case
    for index, part in enumerate(lowered.split("-")):
        in_extension = in_extension or len(part) == 1
        if index and not in_extension and len(part) == 2:
            part = part.upper()  # region
        elif index and not in_extension and len(part) == 4 and part.isalpha():
            part = part.title()  # script
        out.append(part)
    return "-".join(out)


def normalize_country(code: str) -> str:
    upper = code.strip().upper()
    if upper not in ISO_3166_ALPHA_2:
        raise ValueError("not an ISO 3166-1 alpha-2 country code (e.g. 'PL', 'DE')")
    return upper
