"""Per-caller rate limiting with token buckets, and the headers that describe it.

    RateLimiter.take(key) ──► Decision(allowed, remaining, reset, retry_after)
                               │
                               ├─ allowed     RateLimit: "default";r=<remaining>;t=<reset>
                               └─ not allowed 429 + Retry-After + RateLimit + RateLimit-Policy

One bucket per key (``user:<sub>``, ``partner:<id>``, ``ip:<client address>``) holds up to
``burst`` tokens and gains ``rate`` tokens per second; a request takes one token. So a caller
may send ``burst`` requests at once and ``rate`` per second for ever after.

The headers follow the structured-field form of draft-ietf-httpapi-ratelimit-headers-10
(https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-ratelimit-headers-10):

    RateLimit-Policy: "default";q=<burst>;w=<seconds a full bucket takes to refill>
    RateLimit:        "default";r=<whole tokens left>;t=<seconds until the bucket is full again>

A token bucket has no fixed window, so the policy's window ``w`` is the refill time of a
full bucket, and ``t`` tells when the caller has its whole quota back.

Pure code with an injected clock; memory is bounded by evicting buckets that have refilled
completely (they carry no information) and, past ``max_keys``, the least recently used.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["POLICY_NAME", "Decision", "RateLimiter", "TokenBucket"]

POLICY_NAME = "default"


@dataclass
class TokenBucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    """The outcome of one ``take``: whether to serve, and what to tell the caller."""

    allowed: bool
    remaining: int  # whole tokens left after this request
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # until one token is available (0 when allowed)
    policy: str

    def headers(self) -> dict[str, str]:
        fields = {
            "RateLimit": f'"{POLICY_NAME}";r={self.remaining};t={self.reset_seconds}',
            "RateLimit-Policy": self.policy,
        }
        if not self.allowed:
            fields["Retry-After"] = str(self.retry_after_seconds)
        return fields


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        window = max(1, math.ceil(burst / rate))
        self.policy = f'"{POLICY_NAME}";q={burst};w={window}'

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> Decision:
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = TokenBucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        self._buckets[key] = bucket  # most recently used last
        if len(self._buckets) > self.max_keys:
            self._evict(now)
        missing = self.burst - bucket.tokens
        return Decision(
            allowed=allowed,
            remaining=int(bucket.tokens),
            reset_seconds=math.ceil(missing / self.rate - 1e-9) if missing > 0 else 0,
            retry_after_seconds=0 if allowed else max(1, math.ceil((1.0 - bucket.tokens) / self.rate - 1e-9)),
            policy=self.policy,
        )

    def _evict(self, now: float) -> None:
        full = [key for key, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
