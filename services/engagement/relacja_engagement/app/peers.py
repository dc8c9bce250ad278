"""The services the sender asks directly (service to service, not through the gateway).

    fetch_profile    GET {customers_url}/api/v1/customers/{id}: contact details, language,
                     the first address's country (time zone); recorded in known_customers
    issue_coupon     POST {loyalty_url}/api/v1/loyalty/offers/{offer_id}/coupons
                     {"customer_id", "count": 1} with the message id as Idempotency-Key, so
                     a retried message gets the same coupon, never a second one

Both raise :class:`PeerUnavailable` when the peer cannot answer (the message is retried
later); a definite refusal of a coupon raises :class:`CouponRefused` (the message fails).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["CouponRefused", "IssuedCoupon", "PeerUnavailable", "Peers", "Profile"]


class PeerUnavailable(RuntimeError):
    """A peer service (customers, loyalty) did not answer: the message is retried later."""


class CouponRefused(RuntimeError):
    """Loyalty refused the coupon (unknown offer, a conflict, a rule): the message fails with the reason."""


@dataclass(frozen=True)
class Profile:
    found: bool
    erased: bool = False
    display_name: str | None = None
    given_name: str | None = None
    email: str | None = None
    phone: str | None = None
    preferred_language: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class IssuedCoupon:
    coupon_id: uuid.UUID
    code: str


class Peers:
    def __init__(self, customers_url: str, loyalty_url: str, timeout: float) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._customers = customers_url.rstrip("/")
        self._loyalty = loyalty_url.rstrip("/")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch_profile(self, customer_id: uuid.UUID) -> Profile:
        try:
            response = await self._client.get(f"{self._customers}/api/v1/customers/{customer_id}")
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"customers: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return Profile(found=False)
        if response.status_code != 200:
            raise PeerUnavailable(f"customers answered {response.status_code}")
        body: dict[str, Any] = response.json()
        addresses = body.get("addresses") or []
        return Profile(
            found=True,
            erased=body.get("erased_at") is not None,
            display_name=body.get("display_name"),
            given_name=body.get("given_name"),
            email=body.get("email"),
            phone=body.get("phone"),
            preferred_language=body.get("preferred_language"),
            country=addresses[0].get("country") if addresses else None,
        )

    async def issue_coupon(self, offer_id: uuid.UUID, customer_id: uuid.UUID, message_id: uuid.UUID) -> IssuedCoupon:
        try:
            response = await self._client.post(
                f"{self._loyalty}/api/v1/loyalty/offers/{offer_id}/coupons",
                json={"customer_id": str(customer_id), "count": 1},
                headers={"Idempotency-Key": f"engagement-message-{message_id}"},
            )
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"loyalty: {type(exc).__name__}") from exc
        if response.status_code in (200, 201):
            item = response.json()["items"][0]
            return IssuedCoupon(uuid.UUID(item["id"]), item["code"])
        if response.status_code in (404, 409, 422):
            raise CouponRefused(
                f"loyalty refused a coupon of offer {offer_id}: {response.status_code} {response.text[:300]}"
            )
        raise PeerUnavailable(f"loyalty answered {response.status_code}")
