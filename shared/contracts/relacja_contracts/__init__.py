"""Relacja's event contracts: what services say to each other through Kafka.

Map of the package:

    envelope.py   CloudEvents 1.0 envelope and its Kafka binding (binary mode, ce_* headers)
    topics.py     topic names and partition counts; dead-letter topic names
    base.py       EventPayload: the frozen base every versioned payload model extends
    events/       the payload models, one module per producing service
    registry.py   event type name -> payload model, for consumers and for docs
    asyncapi.py   generates the AsyncAPI 3 document and the JSON Schemas kept in the repo

Services import contracts, never each other.
"""

from .base import EventPayload
from .envelope import CloudEvent, from_kafka_headers, to_kafka_headers
from .registry import EVENT_TYPES, payload_model
from .topics import ALL_TOPICS, Topic, dead_letter_topic

__all__ = [
    "ALL_TOPICS",
    "CloudEvent",
    "EVENT_TYPES",
    "EventPayload",
    "Topic",
    "dead_letter_topic",
    "from_kafka_headers",
    "payload_model",
    "to_kafka_headers",
]
