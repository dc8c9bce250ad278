"""Request and response bodies of the webhook routes (staff and partner faces alike).

endpoints   EndpointCreate, EndpointPatch → EndpointPublic, EndpointCreated (with the secret, once),
            EndpointsPublic, EndpointSecret (after a rotation, once)
deliveries  MessagePublic, MessagesPublic (one per record and endpoint), AttemptPublic, AttemptsPublic
            (the delivery log), RedeliverSince → RedeliveryQueued
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relacja_servicekit.models import RowModel
from relacja_servicekit.types import JsonInteger, Timestamp, not_space

from ..domain.webhooks import DisabledReason, EndpointStatus

__all__ = [
    "AttemptPublic",
    "AttemptsPublic",
    "EndpointCreate",
    "EndpointCreated",
    "EndpointPatch",
    "EndpointPublic",
    "EndpointSecret",
    "EndpointsPublic",
    "MessagePublic",
    "MessageStatus",
    "MessagesPublic",
    "RedeliverSince",
    "RedeliveryQueued",
]

MessageStatus = Literal["pending", "delivering", "succeeded", "failed", "cancelled"]

_Url = Annotated[
    str,
    Field(
        min_length=8,
        max_length=2000,
        pattern=f"^[hH][tT][tT][pP][sS]?://{not_space()}+$",
        description="https URL of the receiver (checked: no loopback, private, link-local or reserved address)",
        examples=["https://partner.example/webhooks/relacja"],
    ),
]
_EventType = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-z0-9_.]+$")]
_EventTypes = Annotated[
    list[_EventType],
    Field(
        max_length=50,
        description="Only these event types (empty: every type the agreement shares). "
        "Tombstones and erasure notices are always sent.",
    ),
]
_Description = Annotated[str, Field(max_length=500)]
_Concurrency = Annotated[int, Field(ge=1, le=100, description="Attempts in flight at once"), JsonInteger]
_Rate = Annotated[int, Field(ge=1, le=10_000, description="Attempts per second (null: unlimited)"), JsonInteger]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: _Url
    description: _Description = ""
    event_types: _EventTypes = Field(default_factory=list)
    max_concurrency: _Concurrency = 10
    rate_limit_per_second: _Rate | None = None


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: _Url | None = None
    description: _Description | None = None
    event_types: _EventTypes | None = None
    max_concurrency: _Concurrency | None = None
    rate_limit_per_second: _Rate | None = None


class EndpointPublic(RowModel):
    id: uuid.UUID
    agreement_id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    status: EndpointStatus
    disabled_reason: DisabledReason | None
    disabled_at: datetime | None
    failing_since: datetime | None = Field(description="Every attempt since then failed (null: healthy)")
    max_concurrency: int
    rate_limit_per_second: int | None
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation: until then the old secret signs beside the new one"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointPublic):
    secret: str | None = Field(
        description="whsec_…: shown once, in this answer; verify signatures with it (Standard Webhooks). "
        "Null when an Idempotency-Key replays the answer: the secret is not stored with it."
    )


class EndpointsPublic(BaseModel):
    items: list[EndpointPublic]
    next_cursor: str | None


class EndpointSecret(BaseModel):
    endpoint_id: uuid.UUID
    secret: str = Field(description="The new whsec_… secret: shown once, now")
    previous_secret_expires_at: datetime = Field(description="The old secret signs beside it until then")
    version: int


class MessagePublic(RowModel):
    message_id: str = Field(description="The webhook-id header (the same on every attempt)")
    endpoint_id: uuid.UUID
    event_type: str
    record_id: uuid.UUID | None = Field(description="The CloudEvent id of the feed record sent")
    kind: str | None = Field(description="record | rectification | tombstone | erasure")
    status: MessageStatus
    failures: int = Field(description="Failed attempts since it was (re)queued")
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> MessagePublic:
        values = dict(row._mapping)
        meta = values.pop("meta") or {}
        values["record_id"] = meta.get("record_id")
        values["kind"] = meta.get("kind")
        if values["status"] != "pending":
            values["next_attempt_at"] = None
        return cls.model_validate(values)


class MessagesPublic(BaseModel):
    items: list[MessagePublic]
    next_cursor: str | None


class AttemptPublic(RowModel):
    id: int
    message_id: str
    attempted_at: datetime
    outcome: Literal["succeeded", "failed", "gone"]
    status_code: int | None = Field(description="Null: no response (refused address, timeout, connection error)")
    latency_ms: int
    error: str | None
    response_excerpt: str | None = Field(description="The start of the response body (at most 1 KiB)")


class AttemptsPublic(BaseModel):
    items: list[AttemptPublic]
    next_cursor: str | None


class RedeliverSince(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Timestamp = Field(description="Queue again every finished message created at or after this time")


class RedeliveryQueued(BaseModel):
    queued: int
