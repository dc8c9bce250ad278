"""Commands and results of the sharing use cases: the request and response bodies.

partners     PartnerCreate, PartnerPatch, Contact → PartnerPublic, PartnersPublic
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from relacja_servicekit.models import RowModel

from ..domain.partners import PartnerStatus

__all__ = ["Contact", "PartnerCreate", "PartnerPatch", "PartnerPublic", "PartnersPublic"]

_Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: _Name
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
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
