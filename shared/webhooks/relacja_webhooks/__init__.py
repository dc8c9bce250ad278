"""The one webhook sender of Relacja (Standard Webhooks 1.0), generic over who owns the endpoints.

Map of the package:

    signing.py     whsec_ secrets and the webhook-id / -timestamp / -signature headers, by the
                   ``standardwebhooks`` library; rotation signs with old and new secrets side by side
    guard.py       the SSRF guard: https only (http if the operator allows), no loopback, private,
                   link-local, shared, multicast or reserved address — by every address a host resolves to
    transport.py   WebhookSender: one POST with the connection-time guard (a checking httpcore network
                   backend), 15 s, no redirects, a bounded response excerpt
    schedule.py    pure rules: the retry schedule with jitter, Retry-After, 410, the 5-day disabling,
                   the rate limit's token bucket
    tables.py      webhook_tables(): endpoints, messages (the queue) and attempts (the delivery log)
    migrations.py  create_webhook_tables(): today's tables in a scratch database
    queue.py       register / rotate endpoints, enqueue (Python or SQL sets), redeliver, cancel
    worker.py      DeliveryWorker: claim (SKIP LOCKED, per-key order, concurrency, rate), send, record

A service keeps the tables in its own database (its tables.py calls the factory, its migration
spells out the DDL), runs a DeliveryWorker as a background worker and passes DeliveryHooks to
write its own records (disclosures, events) in the transaction that records a delivery.
See docs/webhooks.md.
"""

from .guard import UnsafeUrlError, UrlPolicy, check_url
from .queue import (
    NewMessage,
    cancel_open,
    enqueue,
    enqueue_select_sql,
    redeliver_message,
    redeliver_since,
    register_endpoint,
    rotate_secret,
)
from .schedule import RetryPolicy
from .signing import new_secret, sign_headers
from .tables import WebhookTables, webhook_tables
from .transport import WebhookSender
from .worker import DeliveredMessage, DeliveryHooks, DeliveryWorker, WorkerSettings

__all__ = [
    "UnsafeUrlError",
    "UrlPolicy",
    "check_url",
    "NewMessage",
    "cancel_open",
    "enqueue",
    "enqueue_select_sql",
    "redeliver_message",
    "redeliver_since",
    "register_endpoint",
    "rotate_secret",
    "RetryPolicy",
    "new_secret",
    "sign_headers",
    "WebhookTables",
    "webhook_tables",
    "WebhookSender",
    "DeliveredMessage",
    "DeliveryHooks",
    "DeliveryWorker",
    "WorkerSettings",
]
