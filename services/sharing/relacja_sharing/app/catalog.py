"""The event types the service shares and the payload fields of each (from the contracts).

Shareable: every event about a customer (its payload has ``customer_id``) on the topics the
service consumes (customers, orders, tickets, segmentation) except those it handles itself —
consents (the projection), merges and erasure (erasure notices). Catalogue events
(``product.changed``) concern no customer, so no agreement can share them. Payload fields are the model's top-level fields; a field
holding a customer's real id is never shareable (``domain.agreements.NEVER_SHARED``).

``TERMS_CATALOG`` is what an agreement's ``allowed_fields`` may name: the shareable types
above (what the partner may see) and the contribution types (what the partner may send,
``domain/contributions.py``) with the fields of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomersMergedV1,
)
from relacja_contracts.registry import EVENT_TYPES
from relacja_contracts.topics import CUSTOMERS, ORDERS, SEGMENTATION, TICKETS

from ..domain.agreements import NEVER_SHARED
from ..domain.contributions import CONTRIBUTION_EVENT_TYPES, contribution_field_names

__all__ = ["CATALOG", "CONTRIBUTION_CATALOG", "SHARED_TOPICS", "TERMS_CATALOG"]

SHARED_TOPICS = (CUSTOMERS, ORDERS, TICKETS, SEGMENTATION)
_HANDLED_ELSEWHERE = {m.event_type for m in (ConsentGrantedV1, ConsentWithdrawnV1, CustomersMergedV1, CustomerErasedV1)}

CATALOG: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        event_type: frozenset(model.model_fields) - NEVER_SHARED
        for event_type, model in sorted(EVENT_TYPES.items())
        if model.topic in SHARED_TOPICS and event_type not in _HANDLED_ELSEWHERE and "customer_id" in model.model_fields
    }
)

CONTRIBUTION_CATALOG: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        event_type: frozenset(contribution_field_names(event_type) or ())
        for event_type in CONTRIBUTION_EVENT_TYPES.values()
    }
)

TERMS_CATALOG: Mapping[str, frozenset[str]] = MappingProxyType({**CATALOG, **CONTRIBUTION_CATALOG})
