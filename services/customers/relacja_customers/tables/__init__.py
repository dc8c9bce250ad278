"""Tables of the customers database, one module per area, all on one ``metadata``.

    customers.py    the customer master
    imports.py      bulk import jobs and their progress
    event_log.py    every event about a customer, kept for the timeline (the outbox is purged)
    interactions.py         the contact history (calls, e-mails, meetings, ...)
    important_dates.py      birthdays, anniversaries, ... and the occurrences already announced
    consents.py             the append-only history of consents

The shared outbox/inbox tables (relacja_messaging) and idempotency keys
(relacja_servicekit) live in the same database.
"""

from ._metadata import metadata
from .consents import consent_records
from .customers import customers
from .event_log import customer_event_log
from .important_dates import important_date_announcements, important_dates
from .imports import customer_imports
from .interactions import interactions

__all__ = ["metadata", "customers", "customer_event_log"]
__all__ += ["interactions", "important_dates", "important_date_announcements", "consent_records"]
__all__ += ["customer_imports"]
