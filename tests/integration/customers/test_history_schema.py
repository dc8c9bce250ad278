"""The migration (0004) creates the contact-history tables exactly as the models describe them."""

from __future__ import annotations

from relacja_devstack import Stack

from .support import schema_drift

TABLES = {"interactions", "important_dates", "important_date_announcements", "consent_records"}


async def test_models_match_the_migrated_schema(stack: Stack) -> None:
    assert await schema_drift(stack, TABLES) == []
