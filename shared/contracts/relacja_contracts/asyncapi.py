"""Generates the AsyncAPI 3 document and the JSON Schema of every event.

The generated files are checked in (``shared/contracts/asyncapi.json`` and
``shared/contracts/schemas/<event type>.json``) so that a contract change shows up in
review; ``tests/unit/test_contracts_drift.py`` fails when they differ from the models.

Regenerate with ``make contracts``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .registry import EVENT_TYPES
from .topics import ALL_TOPICS

__all__ = ["asyncapi_document", "event_schemas", "write_all", "CONTRACTS_DIR"]

CONTRACTS_DIR = Path(__file__).resolve().parent.parent

_CE_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in the Kafka binary binding.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique event id (UUID); consumers de-duplicate on it."},
        "ce_source": {"type": "string", "description": "Producing service, e.g. /relacja/customers."},
        "ce_type": {"type": "string", "description": "Versioned type, relacja.<service>.<entity>.<verb>.v<N>."},
        "ce_subject": {"type": "string", "description": "The customer id; also the record key."},
        "ce_time": {"type": "string", "format": "date-time"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context of the causing request."},
    },
}


def event_schemas() -> dict[str, dict[str, Any]]:
    return {event_type: model.model_json_schema() for event_type, model in sorted(EVENT_TYPES.items())}


def _message_name(event_type: str) -> str:
    return event_type.replace(".", "_")


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = _message_name(event_type)
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else event_type,
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"./schemas/{event_type}.json"},
        }
    for topic in ALL_TOPICS:
        topic_messages = {
            _message_name(t): {"$ref": f"#/components/messages/{_message_name(t)}"}
            for t, m in sorted(EVENT_TYPES.items())
            if m.topic.name == topic.name
        }
        channels[topic.name] = {
            "address": topic.name,
            "description": f"{topic.description} Key: customer id. Partitions: {topic.partitions}.",
            "messages": topic_messages,
        }
        operations[f"publish_{topic.name.replace('.', '_')}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "messages": [{"$ref": f"#/channels/{topic.name}/messages/{m}"} for m in topic_messages],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Relacja events",
            "version": "1.0.0",
            "description": (
                "Events exchanged by Relacja services through Kafka. CloudEvents 1.0 in binary mode: "
                "attributes in ce_* headers, JSON payload as the record value, key = customer id. "
                "Types are versioned; evolution adds optional fields only."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": _CE_HEADERS}},
    }


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def rendered_files() -> dict[Path, str]:
    """Every generated file, path → content."""
    files = {CONTRACTS_DIR / "asyncapi.json": _dump(asyncapi_document())}
    for event_type, schema in event_schemas().items():
        files[CONTRACTS_DIR / "schemas" / f"{event_type}.json"] = _dump(schema)
    return files


def write_all() -> list[Path]:
    files = rendered_files()
    (CONTRACTS_DIR / "schemas").mkdir(exist_ok=True)
    for stale in (CONTRACTS_DIR / "schemas").glob("*.json"):
        if stale not in files:
            stale.unlink()
    for path, content in files.items():
        path.write_text(content)
    return sorted(files)


if __name__ == "__main__":
    for written in write_all():
        print(written.relative_to(CONTRACTS_DIR), file=sys.stderr)
