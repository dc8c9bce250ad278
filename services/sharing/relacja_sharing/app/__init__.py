"""Use cases of the sharing service: (session, parameters) → result; refusals are app/errors.py
or domain.states.IllegalTransition; events go through the outbox (events.py).

    partners.py     partners: create, read, list, change, suspend, resume
    keys.py         API keys: issue, list, revoke; introspection for the gateway
    agreements.py   agreements: create, read, list, change terms, actions; versions (the audit trail)
    catalog.py      the shareable event types and their payload fields (from the contracts)
    projection.py   customers (e-mail, RFM group, region), consents, segment membership
    fanout.py       events into feeds (set-based per event), tombstones, erasure notices, rectification
    recipients.py   partner identifier → customer (for inbound contributions)
    feed.py         the pull feed and the erasure notices feed (opaque cursors)
    disclosures.py  the disclosure log: the one writer (feed and webhooks), per-customer list, retention
    webhooks.py     webhook endpoints per agreement, deliveries, attempts, redelivery; the sender's hooks
                    (disclosures, the endpoint-disabled event) and worker
    webhook_schemas.py  their request and response bodies
    reports.py      aggregate counts with suppression of small groups
    schemas.py      request and response bodies
    events.py       emit / emit_many: the service's one way to write events (the shared Outbox)
    errors.py       what the use cases refuse (mapped to problems in api/problems.py)
"""
