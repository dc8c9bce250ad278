"""The checked-in AsyncAPI document and JSON Schemas must match the models.

If this fails, a contract changed: run ``make contracts`` and review the diff — a change
to a published event type must be additive (new optional fields only).
"""

from __future__ import annotations

from relacja_contracts import ALL_TOPICS, EVENT_TYPES
from relacja_contracts.asyncapi import CONTRACTS_DIR, rendered_files


def test_generated_contract_files_are_up_to_date() -> None:
    stale = [
        str(path.relative_to(CONTRACTS_DIR))
        for path, content in rendered_files().items()
        if not path.exists() or path.read_text() != content
    ]
    assert not stale, f"contract files out of date (run `make contracts`): {stale}"


def test_no_orphan_schema_files() -> None:
    expected = {path for path in rendered_files() if path.parent.name == "schemas"}
    present = set((CONTRACTS_DIR / "schemas").glob("*.json"))
    assert present == expected


def test_every_event_travels_on_a_declared_topic() -> None:
    declared = {topic.name for topic in ALL_TOPICS}
    for event_type, model in EVENT_TYPES.items():
        assert model.topic.name in declared, event_type
        assert event_type.startswith(f"relacja.{model.topic.name.split('.')[1]}.")
