"""Payload models, one module per producing service."""

from .customers import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    ImportantDateUpcomingV1,
    InteractionLoggedV1,
)

__all__ = [
    "ConsentGrantedV1",
    "ConsentWithdrawnV1",
    "CustomerErasedV1",
    "CustomerRegisteredV1",
    "CustomerUpdatedV1",
    "CustomersMergedV1",
    "ImportantDateUpcomingV1",
    "InteractionLoggedV1",
]
