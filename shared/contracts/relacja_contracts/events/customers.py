"""Events produced by the customers service on ``relacja.customers``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import CUSTOMERS

__all__ = ["CustomerRegisteredV1"]


class CustomerRegisteredV1(EventPayload):
    """A new customer record was created in the customer master."""

    event_type = "relacja.customers.customer.registered.v1"
    topic = CUSTOMERS

    customer_id: UUID
    kind: Literal["person", "company"] = Field(description="B2C person or B2B company")
    display_name: str
    email: str | None = Field(default=None, description="Normalised (lower-case) e-mail address")
    lifecycle_stage: Literal["lead", "prospect", "customer", "inactive"]
    registered_at: datetime = Field(description="When the record was created (RFC 3339, UTC)")
