"""Fixtures for end-to-end tests: HTTP clients through the gateway with local tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from relacja_devstack import Stack


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # sharing:read: the GDPR export through the gateway lists the disclosures too (export.py)
    scopes = ["customers:read", "customers:write", "analytics:read", "sharing:read"]
    headers = {"Authorization": f"Bearer {stack.token(scopes)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def anonymous(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        yield client
