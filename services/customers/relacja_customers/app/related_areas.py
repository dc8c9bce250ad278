"""``RELATED_DATA``: every area of data held beside the customer row (``related_data.RelatedData``),
in the order of the export document."""

from __future__ import annotations

from . import consents, important_dates, interactions
from .related_data import RelatedData

__all__ = ["RELATED_DATA"]

RELATED_DATA: tuple[RelatedData, ...] = (important_dates.RELATED, interactions.RELATED, consents.RELATED)
