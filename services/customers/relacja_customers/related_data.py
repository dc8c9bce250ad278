"""Data held about a customer outside the customer row, and what merge, export and
erasure must do with it.

Each area (interactions, consents, important dates, ...) registers one ``RelatedData``.
``POST /merge`` calls every ``rekey``, ``GET /export`` every ``export`` and ``POST /erase``
every ``erase``, all in the request's transaction, so a new area cannot be forgotten by
those three operations.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["RelatedData", "RELATED_DATA", "register"]


@dataclass(frozen=True)
class RelatedData:
    name: str  # the key of this area in the export document
    rekey: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[None]]  # (session, from_id, to_id)
    export: Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]  # JSON-ready data of one customer
    erase: Callable[[AsyncSession, uuid.UUID], Awaitable[None]]  # pseudonymise personal data, keep aggregates


RELATED_DATA: list[RelatedData] = []


def register(area: RelatedData) -> RelatedData:
    if any(existing.name == area.name for existing in RELATED_DATA):
        raise ValueError(f"related data {area.name!r} is registered twice")
    RELATED_DATA.append(area)
    return area
