"""Commands and results of the sharing use cases: the request and response bodies.

partners     PartnerCreate, PartnerPatch, Contact → PartnerPublic, PartnersPublic
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relacja_servicekit.models import RowModel
from relacja_servicekit.types import JsonInteger, Timestamp

from ..domain.agreements import AgreementStatus, Direction, LegalBasis
from ..domain.identifiers import IdentifierKind
from ..domain.partners import PartnerStatus

__all__ = [
    "AgreementCreate",
    "AgreementPatch",
    "AgreementPublic",
    "AgreementVersionPublic",
    "AgreementVersionsPublic",
    "AgreementsPublic",
    "Contact",
    "DisclosurePublic",
    "DisclosuresPublic",
    "FeedPage",
    "IntrospectRequest",
    "Introspection",
    "KeyCreate",
    "KeyCreated",
    "KeyPublic",
    "KeysPublic",
    "PartnerCreate",
    "PartnerPatch",
    "PartnerPublic",
    "PartnersPublic",
    "Report",
    "ReportGroup",
]

_Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: _Name
    # No \s in the pattern: JSON Schema's (ECMA) \s and the validator's (Unicode White_Space)
    # disagree on U+0085, so a client following the schema could be refused.
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@ ]+@[^@ ]+\.[^@ ]+$")] | None = None
    phone: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 ()-]+$")] | None = None
    role: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="e.g. data protection officer, technical contact"
    )


class PartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_name: _Name
    contacts: list[Contact] = Field(default_factory=list, max_length=20)


class PartnerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_name: _Name | None = None
    contacts: Annotated[list[Contact], Field(max_length=20)] | None = None


class PartnerPublic(RowModel):
    id: uuid.UUID
    legal_name: str
    contacts: list[Contact]
    status: PartnerStatus
    version: int
    created_at: datetime
    updated_at: datetime


class PartnersPublic(BaseModel):
    items: list[PartnerPublic]
    next_cursor: str | None


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="What the key is for, e.g. 'production feed reader'"
    )


class KeyPublic(RowModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    lookup: str = Field(description="The key's public part (rpk_<lookup>_...), to tell keys apart")
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Recorded at most once a minute")


class KeyCreated(KeyPublic):
    api_key: str | None = Field(
        description="The key, rpk_<lookup>_<secret>: shown in this answer only (null when an Idempotency-Key "
        "replays it; the service keeps only a hash)"
    )


class KeysPublic(BaseModel):
    items: list[KeyPublic]


class IntrospectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: Annotated[str, Field(min_length=1, max_length=200)]


class Introspection(BaseModel):
    partner_id: uuid.UUID
    key_id: uuid.UUID
    partner_status: PartnerStatus


_Purpose = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]
_EventType = Annotated[str, Field(min_length=1, max_length=200)]
_FieldName = Annotated[str, Field(min_length=1, max_length=100)]
_AllowedFields = Annotated[
    dict[_EventType, Annotated[list[_FieldName], Field(max_length=100)]],
    Field(
        max_length=100,
        description="Per event type (e.g. relacja.orders.order.placed.v1), the payload fields the partner may see; "
        "every other field is dropped",
    ),
]
_MinGroup = Annotated[int, Field(ge=2, le=1_000_000), JsonInteger]


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: uuid.UUID
    name: _Name
    purposes: Annotated[list[_Purpose], Field(min_length=1, max_length=20)]
    direction: Direction
    legal_basis: LegalBasis
    identifier: IdentifierKind = Field(
        default="pseudonym",
        description="What the partner sees of a customer: a per-partner pseudonym (default), the real id, or the "
        "e-mail address",
    )
    allowed_fields: _AllowedFields = Field(default_factory=dict)
    valid_from: Timestamp | None = Field(default=None, description="Default: now")
    valid_until: Timestamp | None = None
    min_group_size: _MinGroup = Field(default=50, description="Aggregate report groups smaller than this are hidden")


class AgreementPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: _Name | None = None
    purposes: Annotated[list[_Purpose], Field(min_length=1, max_length=20)] | None = None
    direction: Direction | None = None
    legal_basis: LegalBasis | None = None
    allowed_fields: _AllowedFields | None = None
    valid_from: Timestamp | None = None
    valid_until: Timestamp | None = None
    min_group_size: _MinGroup | None = None


class AgreementPublic(RowModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    name: str
    status: AgreementStatus
    version: int
    purposes: list[str]
    direction: Direction
    legal_basis: LegalBasis
    identifier: IdentifierKind
    allowed_fields: dict[str, list[str]]
    valid_from: datetime
    valid_until: datetime | None
    min_group_size: int
    created_at: datetime
    updated_at: datetime


class AgreementsPublic(BaseModel):
    items: list[AgreementPublic]
    next_cursor: str | None


class AgreementVersionPublic(RowModel):
    agreement_id: uuid.UUID
    version: int
    change: str
    snapshot: dict[str, Any]
    changed_by: str | None
    changed_at: datetime


class AgreementVersionsPublic(BaseModel):
    items: list[AgreementVersionPublic]


class FeedPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="CloudEvents 1.0 in JSON structured mode: specversion, id, source, type, subject (the customer "
        "identifier the agreement gives), time, datacontenttype, agreementversion, data (the allowed fields only)"
    )
    next_cursor: str = Field(description="Pass as `after` for the next page (also when this page was empty)")
    has_more: bool


class DisclosurePublic(RowModel):
    partner_id: uuid.UUID
    partner_legal_name: str
    agreement_id: uuid.UUID
    agreement_version: int
    purposes: list[str]
    record_id: uuid.UUID
    event_type: str
    fields: list[str]
    channel: Literal["feed", "webhook"]
    disclosed_at: datetime


class DisclosuresPublic(BaseModel):
    items: list[DisclosurePublic]
    next_cursor: str | None


class ReportGroup(BaseModel):
    group: str
    count: int | None = Field(description="Null when suppressed")
    suppressed: bool


class Report(BaseModel):
    agreement_id: uuid.UUID
    dimension: Literal["segment", "rfm", "region"]
    min_group_size: int
    groups: list[ReportGroup]
