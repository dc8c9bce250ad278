"""Request and response models (Create / Public / list page), named by role."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import Page

__all__ = ["CustomerCreate", "CustomerPublic", "CustomersPublic", "CustomerKind", "LifecycleStage"]

CustomerKind = Literal["person", "company"]
LifecycleStage = Literal["lead", "prospect", "customer", "inactive"]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CustomerKind = Field(description="person (B2C) or company (B2B)")
    display_name: str = Field(min_length=1, max_length=200, examples=["Anna Kowalska"])
    email: EmailStr | None = Field(default=None, examples=["anna@example.com"])
    lifecycle_stage: LifecycleStage = "lead"
    external_id: str | None = Field(default=None, min_length=1, max_length=200, description="Id in the company's other systems")
    tags: list[str] = Field(default_factory=list, max_length=50)


class CustomerPublic(RowModel):
    id: UUID
    kind: CustomerKind
    display_name: str
    email: str | None
    lifecycle_stage: LifecycleStage
    external_id: str | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


CustomersPublic = Page[CustomerPublic]
