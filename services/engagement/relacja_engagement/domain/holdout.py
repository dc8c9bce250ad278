"""The holdout draw: a deterministic hash of the campaign (or trigger) id and the customer id.

Deterministic so that planning again, a redelivered event or an audit gives the same
answer, and so that the SQL of the set-based planning computes the very same bucket:

    ('x' || substr(md5(<source_id> || ':' || <customer_id>), 1, 8))::bit(32)::bigint % 10000

A customer is held out when their bucket (0..9999) is below ``percent × 100``.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from uuid import UUID

__all__ = ["BUCKETS", "bucket", "in_holdout", "threshold"]

BUCKETS = 10_000


def bucket(source_id: UUID, customer_id: UUID) -> int:
    digest = hashlib.md5(f"{source_id}:{customer_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % BUCKETS


def threshold(percent: Decimal) -> int:
    """Buckets below this are held out (percent has two decimals: 10.25 % → 1025)."""
    return int(percent * 100)


def in_holdout(source_id: UUID, customer_id: UUID, percent: Decimal) -> bool:
    return bucket(source_id, customer_id) < threshold(percent)
