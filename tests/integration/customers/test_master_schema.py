"""Migration 0003 creates the customer master and import tables exactly as the models describe them."""

from __future__ import annotations

from relacja_devstack import Stack

from .support import schema_drift

TABLES = {"customers", "customer_imports"}


async def test_models_match_the_migrated_schema(stack: Stack) -> None:
    assert await schema_drift(stack, TABLES) == []
