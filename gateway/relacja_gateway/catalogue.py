"""The event catalogue: the suite's AsyncAPI document in one piece, and as an HTML page.

    bundle(document, schemas)   the AsyncAPI 3 document with every payload schema moved in
                                (``components.schemas``), so it needs no other file; the
                                generated document points at ``./schemas/<type>.json`` files
                                that exist only in the repository
    event_entries(document)     one EventEntry per message: type, topic, version, summary and
                                the payload schema, in topic order
    render_catalogue(document)  the HTML page: plain HTML with inline CSS, no script and
                                nothing loaded from elsewhere, so it reads on a closed network
    suite_catalogue()           both of the above for relacja_contracts' events, built once

Pure apart from ``suite_catalogue`` (which only imports the contracts): no I/O.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from relacja_contracts.asyncapi import asyncapi_document, event_schemas

__all__ = ["Catalogue", "EventEntry", "bundle", "event_entries", "render_catalogue", "suite_catalogue"]

_PAYLOAD_FILE = re.compile(r"^\./schemas/(?P<type>.+)\.json$")
_VERSION = re.compile(r"\.(?P<version>v\d+)$")


@dataclass(frozen=True)
class EventEntry:
    key: str  # the message's name in components.messages; also the HTML anchor
    type: str  # the CloudEvents type, relacja.<service>.<entity>.<verb>.v<N>
    topic: str
    version: str
    title: str
    summary: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Catalogue:
    document: dict[str, Any]
    document_json: bytes  # serialised once: the page and the document never change at run time
    html: str


def _rebase_refs(node: Any, base: str) -> Any:
    """``node`` with every local ``$ref`` (``#/...``) made relative to ``base`` instead of
    the root of the file it came from (JSON Pointer, RFC 6901)."""
    if isinstance(node, dict):
        return {
            key: (
                base + value[1:]
                if key == "$ref" and isinstance(value, str) and value.startswith("#/")
                else _rebase_refs(value, base)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase_refs(item, base) for item in node]
    return node


def bundle(document: Mapping[str, Any], schemas: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``document`` with each message's ``./schemas/<type>.json`` payload placed at
    ``components.schemas.<message>`` (its ``$defs`` kept inside it, their references
    rewritten to match). A payload reference of another form, or to a type missing from
    ``schemas``, is a ValueError: the generator and this function disagree."""
    bundled = copy.deepcopy(dict(document))
    components = bundled.setdefault("components", {})
    component_schemas = components.setdefault("schemas", {})
    for key, message in components.get("messages", {}).items():
        reference = message.get("payload", {}).get("$ref", "")
        match = _PAYLOAD_FILE.match(reference)
        if match is None or match["type"] not in schemas:
            raise ValueError(f"message {key}: payload {reference!r} is not a generated schema file")
        if key in component_schemas:
            raise ValueError(f"message {key}: a schema of that name already exists")
        component_schemas[key] = _rebase_refs(
            copy.deepcopy(dict(schemas[match["type"]])), f"#/components/schemas/{key}"
        )
        message["payload"] = {"$ref": f"#/components/schemas/{key}"}
    return bundled


def _resolve(document: Mapping[str, Any], reference: str) -> Any:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def event_entries(document: Mapping[str, Any]) -> list[EventEntry]:
    """Every message of a bundled document, by topic then type."""
    topic_of: dict[str, str] = {}
    for channel in document.get("channels", {}).values():
        for reference in channel.get("messages", {}).values():
            topic_of[reference["$ref"].rsplit("/", 1)[-1]] = channel["address"]
    entries = []
    for key, message in document["components"]["messages"].items():
        version = _VERSION.search(message["name"])
        entries.append(
            EventEntry(
                key=key,
                type=message["name"],
                topic=topic_of.get(key, "(no topic)"),
                version=version["version"] if version else "",
                title=message.get("title", ""),
                summary=message.get("summary", ""),
                payload=_resolve(document, message["payload"]["$ref"]),
            )
        )
    return sorted(entries, key=lambda entry: (entry.topic, entry.type))


def _type_label(schema: Mapping[str, Any], anchor: str) -> str:
    """A field's type as HTML, e.g. ``string (uuid) | null`` or ``array of <a>OrderLine</a>``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#{escape(anchor)}.{escape(name)}">{escape(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type_label(option, anchor) for option in schema["anyOf"])
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(str(value))}</code>" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + _type_label(schema.get("items", {}), anchor)
    label = escape(str(kind))
    if "format" in schema:
        label += f" ({escape(schema['format'])})"
    if "pattern" in schema and "examples" in schema:
        label += f", e.g. <code>{escape(str(schema['examples'][0]))}</code>"
    if "minimum" in schema and "maximum" in schema:
        label += f", {schema['minimum']} to {schema['maximum']}"
    elif "minimum" in schema:
        label += f", ≥ {schema['minimum']}"
    elif "maximum" in schema:
        label += f", ≤ {schema['maximum']}"
    return label


def _fields_table(schema: Mapping[str, Any], anchor: str) -> str:
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        notes = escape(field.get("description", ""))
        if "default" in field:
            notes += f" <small>(default <code>{escape(json.dumps(field['default']))}</code>)</small>"
        rows.append(
            f"<tr><td><code>{escape(name)}</code></td><td>{_type_label(field, anchor)}</td>"
            f"<td>{'yes' if name in required else 'no'}</td><td>{notes}</td></tr>"
        )
    return (
        "<table><thead><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _event_section(entry: EventEntry) -> str:
    payload = entry.payload
    parts = [
        f'<section class="event" id="{escape(entry.key)}">',
        f'<h3><code class="event-type">{escape(entry.type)}</code></h3>',
        "<dl>",
        f'<dt>topic</dt><dd><code class="event-topic">{escape(entry.topic)}</code></dd>',
        f'<dt>version</dt><dd class="event-version">{escape(entry.version)}</dd>',
        f"<dt>payload model</dt><dd><code>{escape(entry.title)}</code></dd>",
        "</dl>",
        f"<p>{escape(payload.get('description') or entry.summary)}</p>",
        _fields_table(payload, entry.key),
    ]
    for name, definition in payload.get("$defs", {}).items():
        parts.append(f'<h4 id="{escape(entry.key)}.{escape(name)}">{escape(name)}</h4>')
        if definition.get("description"):
            parts.append(f"<p>{escape(definition['description'])}</p>")
        parts.append(_fields_table(definition, entry.key))
    parts.append("</section>")
    return "\n".join(parts)


_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; width: 100%; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; } dd { margin: 0; }
section.event { border-top: 2px solid #ddd; margin-top: 2em; }
code { background: #f6f6f6; padding: 0 .2em; }
"""


def render_catalogue(document: Mapping[str, Any]) -> str:
    """The HTML page of a bundled AsyncAPI document: the topics with their events, the
    CloudEvents headers every event carries, then each event's payload fields."""
    info = document.get("info", {})
    entries = event_entries(document)
    topics = []
    for channel in sorted(document.get("channels", {}).values(), key=lambda channel: channel["address"]):
        links = ", ".join(
            f'<a href="#{escape(entry.key)}">{escape(entry.type)}</a>'
            for entry in entries
            if entry.topic == channel["address"]
        )
        topics.append(
            f"<tr><td><code>{escape(channel['address'])}</code></td><td>{escape(channel.get('description', ''))}</td>"
            f"<td>{links}</td></tr>"
        )
    headers = document.get("components", {}).get("schemas", {}).get("CloudEventHeaders")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(info.get('title', 'Events'))} {escape(info.get('version', ''))}</title>",
            '<link rel="icon" href="/docs/assets/favicon.png">',
            f"<style>{_STYLE}</style>",
            "</head><body>",
            '<nav><a href="/docs">HTTP API (Swagger UI)</a> · <a href="/asyncapi.json">asyncapi.json</a></nav>',
            f"<h1>{escape(info.get('title', 'Events'))}</h1>",
            f"<p>{escape(info.get('description', ''))}</p>",
            f"<p>AsyncAPI {escape(document.get('asyncapi', ''))}, document version {escape(info.get('version', ''))}; "
            f"{len(entries)} event types.</p>",
            "<h2>Topics</h2>",
            "<table><thead><tr><th>topic</th><th>description</th><th>events</th></tr></thead>",
            f"<tbody>{''.join(topics)}</tbody></table>",
            *(["<h2>Headers of every event</h2>", _fields_table(headers, "headers")] if headers else []),
            "<h2>Events</h2>",
            *(_event_section(entry) for entry in entries),
            "</body></html>",
        ]
    )


@functools.cache
def suite_catalogue() -> Catalogue:
    """The catalogue of every event in relacja_contracts, built on first use. Generated
    from the models rather than read from ``shared/contracts/asyncapi.json``, which an
    installed gateway does not have; the drift test keeps the two the same."""
    document = bundle(asyncapi_document(), event_schemas())
    return Catalogue(
        document=document,
        document_json=json.dumps(document, indent=2, sort_keys=True).encode(),
        html=render_catalogue(document),
    )
