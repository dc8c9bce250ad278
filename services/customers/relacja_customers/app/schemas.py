"""The customer master's commands and views, named by role (the HTTP bodies of
``api/customers.py``; the import reads its rows with ``CustomerImportRow``).

    CustomerCreate    POST /customers            every field; kind required
    CustomerPatch     PATCH /customers/{id}      a JSON merge patch (RFC 7396): every field optional
    CustomerImportRow one row of a bulk import   a patch with a required external_id
    CustomerPublic    what a client reads        the fields, version, times, erased_at, source
    PartnerSource     a record's source when a partner contributed it (lead, interaction)
    CustomersPublic   a page of customers

Field-level rules live in the annotated types below, so a bad value is a 422 naming the
field wherever it comes from: e-mail (``email-validator``), phone (``phonenumbers``,
stored E.164), language (BCP 47), country (ISO 3166-1 alpha-2), birth date (not in the
future), custom attributes (typed). Rules across fields are in ``domain.customer``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from relacja_contracts.events.sharing import PartnerInteractionKind
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import Page
from relacja_servicekit.types import Day, StrictBool, Timestamp

from ..domain.contact import normalize_country, normalize_language, normalize_phone, validate_email_address
from ..domain.customer import FIELDS
from ..settings import CustomersSettings

__all__ = [
    "Address",
    "AwareTimestamp",
    "CustomAttribute",
    "CustomerCreate",
    "CustomerImportRow",
    "CustomerKind",
    "CustomerPatch",
    "CustomerPublic",
    "CustomersPublic",
    "LifecycleStage",
    "PartnerSource",
    "changes_of",
]

CustomerKind = Literal["person", "company"]
LifecycleStage = Literal["lead", "prospect", "customer", "inactive"]


def _field_rule(rule: Callable[[Any], Any], error: str) -> Callable[[Any], Any]:
    """``rule`` as a validator whose ``ValueError`` message is the client's message as is
    (pydantic would prefix it with "Value error, ")."""

    def validate(value: Any) -> Any:
        try:
            return rule(value)
        except ValueError as err:
            raise PydanticCustomError(error, str(err)) from None

    return validate


@functools.cache
def _phone_region() -> str:
    return CustomersSettings().default_phone_region


def _phone(value: str) -> str:
    return normalize_phone(value, _phone_region())


def _not_in_future(value: date) -> date:
    # "Today" is the UTC date: a birth date later than that is in the future everywhere
    # but east of UTC, where it is at most a day early.
    if value > datetime.now(UTC).date():
        raise ValueError("must not be in the future")
    if value < date(1900, 1, 1):
        raise ValueError("must not be before 1900-01-01")
    return value


def _number(value: Any) -> int | float:
    # A JSON number, kept as written (3 stays 3, 2.5 stays 2.5); true/false and "3" are not numbers.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a JSON number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset (RFC 3339), e.g. 2026-01-31T09:00:00Z")
    return value


#: An RFC 3339 timestamp with its offset (text, never a number).
AwareTimestamp = Annotated[Timestamp, AfterValidator(_field_rule(_aware, "timezone_aware"))]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=40),
    AfterValidator(_field_rule(_phone, "phone")),
]
Language = Annotated[
    str, StringConstraints(min_length=2, max_length=35), AfterValidator(_field_rule(normalize_language, "language"))
]
Country = Annotated[
    str, StringConstraints(min_length=2, max_length=2), AfterValidator(_field_rule(normalize_country, "country"))
]
BirthDate = Annotated[Day, AfterValidator(_field_rule(_not_in_future, "birth_date"))]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320),
    AfterValidator(_field_rule(validate_email_address, "email")),
    WithJsonSchema({"type": "string", "format": "email"}),
]
Number = Annotated[int | float, PlainValidator(_field_rule(_number, "number")), WithJsonSchema({"type": "number"})]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["billing", "shipping", "home", "office"]
    line1: str = Field(min_length=1, max_length=200, examples=["ul. Marszałkowska 1"])
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, min_length=1, max_length=20, examples=["00-001"])
    city: str = Field(min_length=1, max_length=100, examples=["Warszawa"])
    region: str | None = Field(default=None, max_length=100)
    country: Country = Field(description="ISO 3166-1 alpha-2", examples=["PL"])


class _Attribute(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StringAttribute(_Attribute):
    type: Literal["string"]
    value: Annotated[str, Field(max_length=1000, strict=True)]


class NumberAttribute(_Attribute):
    type: Literal["number"]
    value: Number


class BooleanAttribute(_Attribute):
    type: Literal["boolean"]
    value: StrictBool


class DateAttribute(_Attribute):
    type: Literal["date"]
    value: Day = Field(description="ISO 8601 date, YYYY-MM-DD")


CustomAttribute = Annotated[
    StringAttribute | NumberAttribute | BooleanAttribute | DateAttribute, Field(discriminator="type")
]
_ATTRIBUTES_DESCRIPTION = (
    'Typed attributes: {"name": {"type": "string|number|boolean|date", "value": ...}} (at most 50)'
)


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CustomerKind = Field(description="person (B2C) or company (B2B)")
    display_name: Name | None = Field(
        default=None, examples=["Anna Kowalska"], description="Derived from the names when not given"
    )
    given_name: Name | None = Field(default=None, description="Persons only")
    family_name: Name | None = Field(default=None, description="Persons only")
    legal_name: Name | None = Field(default=None, description="Companies only")
    email: Email | None = Field(default=None, examples=["anna@example.com"])
    phone: Phone | None = Field(default=None, examples=["+48 600 123 456"], description="Stored in E.164")
    addresses: list[Address] = Field(default_factory=list, max_length=20)
    preferred_language: Language | None = Field(default=None, examples=["pl", "en-GB"], description="BCP 47")
    birth_date: BirthDate | None = Field(default=None, description="Persons only; not in the future")
    lifecycle_stage: LifecycleStage = "lead"
    owner_id: Identifier | None = Field(default=None, description="The account manager")
    external_id: Identifier | None = Field(default=None, description="Id in the company's other systems")
    company_id: UUID | None = Field(default=None, description="Persons only: the company (a customer of kind company)")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    custom_attributes: dict[AttributeName, CustomAttribute] = Field(
        default_factory=dict, max_length=50, description=_ATTRIBUTES_DESCRIPTION
    )


class CustomerPatch(BaseModel):
    """A JSON merge patch (RFC 7396): members present are set, ``null`` clears one.

    ``custom_attributes`` is merged by attribute: ``{"vip": null}`` removes one
    attribute and keeps the others. ``kind`` cannot change (it may be repeated as is).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CustomerKind | None = None
    display_name: Name | None = Field(default=None, description="null: derive it from the names again")
    given_name: Name | None = None
    family_name: Name | None = None
    legal_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    addresses: list[Address] | None = Field(default=None, max_length=20)
    preferred_language: Language | None = None
    birth_date: BirthDate | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: Identifier | None = None
    external_id: Identifier | None = None
    company_id: UUID | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    custom_attributes: dict[AttributeName, CustomAttribute | None] | None = Field(default=None, max_length=50)


class CustomerImportRow(CustomerPatch):
    """One import row: a merge patch of the customer with this ``external_id`` (created if new)."""

    external_id: Identifier


def changes_of(model: BaseModel, *, include_defaults: bool = False) -> dict[str, Any]:
    """The fields a request sets, in the stored form (addresses and attributes as JSON)."""
    names = FIELDS if include_defaults else [n for n in FIELDS if n in model.model_fields_set]
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(model, name)
        if name == "addresses" and value is not None:
            value = [address.model_dump(mode="json", exclude_none=True) for address in value]
        elif name == "custom_attributes" and value is not None:
            value = {k: (v.model_dump(mode="json") if v is not None else None) for k, v in value.items()}
        elif name == "email" and value is not None:
            value = str(value)
        changes[name] = value
    return changes


class PartnerSource(BaseModel):
    """A record a partner contributed through the sharing service (``relacja.sharing``)."""

    type: Literal["partner"] = "partner"
    partner_id: UUID
    partner_name: str = Field(description="The partner's legal name when it contributed")
    agreement_id: UUID = Field(description="The inbound agreement it was contributed under")
    contribution_id: UUID = Field(description="The contribution in the sharing service")
    activity: PartnerInteractionKind | None = Field(
        default=None, description="Interactions only: what the partner reported, e.g. delivery_attempt"
    )


class CustomerPublic(RowModel):
    id: UUID
    kind: CustomerKind
    display_name: str
    given_name: str | None
    family_name: str | None
    legal_name: str | None
    email: str | None
    phone: str | None = Field(description="E.164")
    addresses: list[Address]
    preferred_language: str | None
    birth_date: date | None
    lifecycle_stage: LifecycleStage
    owner_id: str | None
    external_id: str | None
    company_id: UUID | None
    tags: list[str]
    custom_attributes: dict[str, CustomAttribute]
    version: int
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(description="When personal data was erased (the record is then read-only)")
    source: PartnerSource | None = Field(
        default=None, description="Set when a partner registered the customer as a lead; null for staff and imports"
    )


CustomersPublic = Page[CustomerPublic]
