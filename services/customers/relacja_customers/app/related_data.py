"""Data held about a customer outside the customer row, and what merge, export and
erasure must do with it.

Each area (interactions, consents, important dates, ...) defines one ``RelatedData`` as
its module's ``RELATED``, listed in ``related_areas.RELATED_DATA``. The merge
(``app/merge.py``) calls every ``rekey``, the export (``app/privacy.py``) every ``export``
and the erasure every ``erase``, all in the caller's transaction; a test checks that every
area module is listed, so a new area cannot be forgotten by those three operations.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["RelatedData"]


@dataclass(frozen=True)
class RelatedData:
    name: str  # the key of this area in the export document
    rekey: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[None]]  # (session, from_id, to_id)
    export: Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]  # JSON-ready data of one customer
    erase: Callable[[AsyncSession, uuid.UUID], Awaitable[None]]  # pseudonymise personal data, keep aggregates
