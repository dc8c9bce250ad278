"""Tables of the customers database, one module per area, all on one ``metadata``.

    customers.py    the customer master
    event_log.py    every event about a customer, kept for the timeline (the outbox is purged)

The shared outbox/inbox tables (relacja_messaging) and idempotency keys
(relacja_servicekit) live in the same database.
"""

from ._metadata import metadata
from .customers import customers
from .event_log import customer_event_log

__all__ = ["metadata", "customers", "customer_event_log"]
