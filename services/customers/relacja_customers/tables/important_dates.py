"""Important dates of customers, and the occurrences already announced.

``important_date_announcements`` makes the upcoming-date event exactly-once: its primary
key is (date, occurrence year), so a second run — or a second replica running at the same
moment — finds the row and emits nothing.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from ._metadata import metadata

__all__ = ["important_dates", "important_date_announcements"]

important_dates = Table(
    "important_dates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "customer_id",
        UUID(as_uuid=True),
        # Deferred: a merge may re-key and remove customers in any order within its transaction.
        ForeignKey("customers.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column(
        "kind", Text, nullable=False, comment="birthday, name_day, purchase_anniversary, contract_anniversary, custom"
    ),
    Column("month", SmallInteger, nullable=False),
    Column("day", SmallInteger, nullable=False),
    Column("year", SmallInteger, nullable=True, comment="Birth year, first purchase year, ...; optional"),
    Column("label", Text, nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1"), comment="Bumped on every change; the ETag"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True), nullable=True, comment="Set by erasure: no longer announced"),
    CheckConstraint("month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31", name="ck_important_dates_month_day"),
    CheckConstraint(
        "kind IN ('birthday', 'name_day', 'purchase_anniversary', 'contract_anniversary', 'custom')",
        name="ck_important_dates_kind",
    ),
    Index("ix_important_dates_customer", "customer_id", "month", "day", "id"),
    Index("ix_important_dates_month_day", "month", "day", "id"),
)

important_date_announcements = Table(
    "important_date_announcements",
    metadata,
    Column(
        "important_date_id", UUID(as_uuid=True), ForeignKey("important_dates.id", ondelete="CASCADE"), nullable=False
    ),
    Column("occurrence_year", SmallInteger, nullable=False),
    Column("occurs_on", Date, nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("important_date_id", "occurrence_year"),
)
