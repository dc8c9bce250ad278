"""The fan-out: one incoming event into the feeds of every agreement that may see it.

One set-based statement per event (``_FANOUT``; per batch of events, ``fan_out_many``) joins the event with the active,
outbound, in-window agreements of active partners that list its type, keeps those whose
legal basis holds for this customer (under ``consent``: the purposes the customer granted
that partner, at least one), computes the identifier the partner sees (pseudonym in SQL,
``domain.identifiers.PSEUDONYM_SQL``), records the (agreement, customer) pair as a
recipient and appends the filtered CloudEvent — the payload reduced to the allow-list —
to the feed. Erased customers get nothing more.

Special records (no personal data besides the identifier the partner already has):

    rectification   customer.updated whose changed fields include allowed ones: the corrected
                    values of those fields, to agreements that already received the customer
    tombstone       a partner_sharing consent withdrawn: one record per agreement that received
                    the customer and has no granted purpose left — stop processing
    erasure         customer erased: one record to every agreement that ever received the
                    customer, whatever its state now (Art. 19); earlier records' data is blanked

Appends take a transaction-level advisory lock first, so feed positions become visible
in order: a reader never sees position n+1 before n, and a page never changes later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import CustomerUpdatedV1

from ..domain.identifiers import PSEUDONYM_SQL

__all__ = [
    "ERASURE_TYPE",
    "FEED_LOCK",
    "RECTIFICATION_TYPE",
    "TOMBSTONE_TYPE",
    "FanOutEvent",
    "fan_out",
    "fan_out_many",
    "lock_feed",
    "send_erasure_notices",
    "send_tombstones",
]

_LOCKED = "relacja_sharing.feed_locked"  # session.info key: the transaction that holds the lock
FEED_LOCK = 0x5348_4152  # "SHAR": the advisory lock every feed append holds until commit
TOMBSTONE_TYPE = "relacja.sharing.consent.withdrawn.v1"
ERASURE_TYPE = "relacja.sharing.customer.erased.v1"
RECTIFICATION_TYPE = "relacja.sharing.customer.rectified.v1"

_IDENT = PSEUDONYM_SQL.format(opad="p.pseudonym_opad", ipad="p.pseudonym_ipad", cid="e.cid")

_CLOUD_EVENT = """jsonb_build_object(
    'specversion', '1.0', 'id', t.rid, 'source', '/relacja/sharing/agreements/' || t.agreement_id,
    'type', {type}, 'subject', t.ident, 'time', {ce_time}, 'datacontenttype', 'application/json',
    'agreementversion', t.version, 'data', {data})"""

# The events to fan out, as a relation ``ev`` (ord, type, cid, time, ce_time, payload): one
# event from bind parameters, or a batch's events from one JSON array (``fan_out_many``).
_ONE_EVENT = """SELECT 0 AS ord, CAST(:type AS text) AS type, CAST(:cid AS uuid) AS cid,
       CAST(:time AS timestamptz) AS time, CAST(:ce_time AS text) AS ce_time, CAST(:payload AS jsonb) AS payload"""
_MANY_EVENTS = """SELECT * FROM jsonb_to_recordset(CAST(:events AS jsonb))
       AS x(ord int, type text, cid uuid, time timestamptz, ce_time text, payload jsonb)"""

# Under consent, the purposes this customer granted the partner (NULL: none) — else all.
# Records are appended in the events' order (then by agreement), so a feed lists a batch's
# events as it would have listed them one by one.
_FANOUT = f"""
WITH ev AS ({{events}}), targets AS (
    SELECT e.ord, e.cid, e.type, e.ce_time, e.payload, a.id AS agreement_id, a.partner_id, a.version,
           a.identifier AS id_kind, a.allowed_fields -> e.type AS allowed,
           CASE WHEN a.legal_basis <> 'consent' THEN a.purposes ELSE (
               SELECT jsonb_agg(c.partner_purpose ORDER BY c.partner_purpose) FROM sharing_consents c
                WHERE c.customer_id = e.cid AND c.partner_id = a.partner_id::text AND c.granted
                  AND a.purposes ? c.partner_purpose) END AS granted,
           CASE a.identifier WHEN 'pseudonym' THEN {_IDENT}
                             WHEN 'customer_id' THEN e.cid::text
                             ELSE (SELECT s.email FROM sharing_customers s WHERE s.customer_id = e.cid)
           END AS ident
      FROM ev e
      JOIN sharing_agreements a ON a.allowed_fields ? e.type AND a.valid_from <= e.time
                               AND (a.valid_until IS NULL OR a.valid_until > e.time)
      JOIN sharing_partners p ON p.id = a.partner_id
     WHERE a.status = 'active' AND p.status = 'active' AND a.direction <> 'inbound'
       AND NOT EXISTS (SELECT 1 FROM sharing_customers x WHERE x.customer_id = e.cid AND x.erased_at IS NOT NULL)
       {{only_recipients}}
), kept AS (
    SELECT t.*, gen_random_uuid() AS rid,
           (SELECT coalesce(jsonb_object_agg(k, v), '{{{{}}}}'::jsonb) FROM jsonb_each(t.payload) AS f(k, v)
             WHERE t.allowed ? k AND {{field_filter}}) AS data
      FROM targets t WHERE t.granted IS NOT NULL AND jsonb_array_length(t.granted) > 0 AND t.ident IS NOT NULL
), recipients AS (
    INSERT INTO sharing_recipients (agreement_id, customer_id, partner_id, identifier)
    SELECT DISTINCT ON (t.agreement_id, t.cid) t.agreement_id, t.cid, t.partner_id, t.ident
      FROM kept t WHERE {{nonempty}} ORDER BY t.agreement_id, t.cid, t.ord
    ON CONFLICT (agreement_id, customer_id) DO NOTHING
)
INSERT INTO sharing_feed_records (agreement_id, partner_id, customer_id, identifier, kind, record_id, event_type,
                                  agreement_version, purposes, fields, cloud_event)
SELECT t.agreement_id, t.partner_id, t.cid, t.ident, {{kind}}, t.rid, {{type}}, t.version, t.granted,
       (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]'::jsonb) FROM jsonb_object_keys(t.data) AS k),
       {_CLOUD_EVENT.format(type="{type}", ce_time="t.ce_time", data="t.data")}
  FROM kept t WHERE {{nonempty}}
 ORDER BY t.ord, t.agreement_id
"""

# Rectification: only to agreements that already received the customer; only the changed, allowed fields.
_RECTIFY = _FANOUT.format(
    events=_ONE_EVENT,
    only_recipients="AND EXISTS (SELECT 1 FROM sharing_recipients r WHERE r.agreement_id = a.id "
    "AND r.customer_id = e.cid)",
    field_filter="CAST(:changed AS jsonb) ? k",
    nonempty="t.data <> '{}'::jsonb",
    kind="'rectification'",
    type=f"'{RECTIFICATION_TYPE}'",
)
_RECORD_ARGS = {"only_recipients": "", "field_filter": "true", "nonempty": "true", "kind": "'record'", "type": "t.type"}
_RECORD = _FANOUT.format(events=_ONE_EVENT, **_RECORD_ARGS)
_RECORD_MANY = _FANOUT.format(events=_MANY_EVENTS, **_RECORD_ARGS)

# Notices to agreements that received the customer. :only_consent limits them to the
# partner's consent-based agreements left with no granted purpose (tombstones).
_NOTICE = f"""
INSERT INTO sharing_feed_records (agreement_id, partner_id, customer_id, identifier, kind, record_id, event_type,
                                  agreement_version, purposes, fields, cloud_event)
SELECT t.agreement_id, t.partner_id, r_customer, t.ident, CAST(:kind AS text), t.rid, CAST(:type AS text), t.version, '[]'::jsonb, '[]'::jsonb,
       {_CLOUD_EVENT.format(type="CAST(:type AS text)", ce_time="CAST(:ce_time AS text)", data="CAST(:data AS jsonb)")}
  FROM (SELECT r.agreement_id, r.partner_id, r.customer_id AS r_customer, r.identifier AS ident, a.version,
               gen_random_uuid() AS rid
          FROM sharing_recipients r JOIN sharing_agreements a ON a.id = r.agreement_id
         WHERE r.customer_id = CAST(:cid AS uuid)
           AND (CAST(:partner AS text) IS NULL OR r.partner_id::text = CAST(:partner AS text))
           AND (NOT CAST(:only_consent AS boolean) OR (a.legal_basis = 'consent' AND a.status <> 'terminated' AND NOT EXISTS (
                SELECT 1 FROM sharing_consents c WHERE c.customer_id = r.customer_id
                   AND c.partner_id = r.partner_id::text AND c.granted AND a.purposes ? c.partner_purpose)))
       ) AS t
"""

_BLANK = """
UPDATE sharing_feed_records SET cloud_event = jsonb_set(cloud_event, '{data}', '{}'::jsonb), fields = '[]'::jsonb
 WHERE customer_id = CAST(:cid AS uuid) AND kind IN ('record', 'rectification')
"""


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def lock_feed(session: AsyncSession) -> None:
    """Take the feed's append lock, once per transaction (the consumer applies a whole fetch in one)."""
    transaction = session.sync_session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED) is transaction:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK})
    session.info[_LOCKED] = transaction


@dataclass(frozen=True)
class FanOutEvent:
    event_type: str
    customer_id: uuid.UUID
    time: datetime
    payload: str  # the payload's JSON


async def fan_out(
    session: AsyncSession, *, event_type: str, customer_id: uuid.UUID, time: datetime, payload: str
) -> int:
    """Append the event to every agreement's feed that may see it; the number of records written."""
    await lock_feed(session)
    params = {"type": event_type, "cid": str(customer_id), "time": time, "ce_time": _rfc3339(time), "payload": payload}
    if event_type == CustomerUpdatedV1.event_type:
        changed = json.loads(payload).get("changed_fields", [])
        result = await session.execute(text(_RECTIFY), params | {"changed": json.dumps(changed)})
    else:
        result = await session.execute(text(_RECORD), params)
    return int(result.rowcount)  # type: ignore[attr-defined]  # an INSERT's CursorResult has rowcount


async def fan_out_many(session: AsyncSession, events: Sequence[FanOutEvent]) -> int:
    """``fan_out`` for a batch of events (none a ``customer.updated``: those rectify, one by
    one), in one statement; the number of records written."""
    if not events:
        return 0
    if any(e.event_type == CustomerUpdatedV1.event_type for e in events):
        raise ValueError("customer.updated is fanned out one by one (fan_out), as a rectification")
    await lock_feed(session)
    # The payloads are already JSON: spliced in as they are rather than parsed and dumped again.
    rows = ",".join(
        f'{{"ord":{n},"type":{json.dumps(e.event_type)},"cid":"{e.customer_id}",'
        f'"time":"{e.time.isoformat()}","ce_time":"{_rfc3339(e.time)}","payload":{e.payload}}}'
        for n, e in enumerate(events)
    )
    result = await session.execute(text(_RECORD_MANY), {"events": f"[{rows}]"})
    return int(result.rowcount)  # type: ignore[attr-defined]  # an INSERT's CursorResult has rowcount


async def send_tombstones(
    session: AsyncSession, *, customer_id: uuid.UUID, partner_id: str, purpose: str, time: datetime
) -> int:
    """A tombstone to each of the partner's consent-based agreements that received the customer and lost its last
    granted purpose (call after the withdrawal is in ``sharing_consents``)."""
    await lock_feed(session)
    data = {"reason": "consent_withdrawn", "purpose": purpose, "instruction": "stop_processing"}
    return await _notice(session, customer_id, partner_id, "tombstone", TOMBSTONE_TYPE, data, time, only_consent=True)


async def send_erasure_notices(session: AsyncSession, *, customer_id: uuid.UUID, time: datetime) -> int:
    """An erasure notice to every agreement that ever received the customer; their earlier records lose their data."""
    await lock_feed(session)
    data = {"reason": "erased", "instruction": "erase"}
    written = await _notice(session, customer_id, None, "erasure", ERASURE_TYPE, data, time, only_consent=False)
    await session.execute(text(_BLANK), {"cid": str(customer_id)})
    return written


async def _notice(
    session: AsyncSession,
    customer_id: uuid.UUID,
    partner_id: str | None,
    kind: str,
    event_type: str,
    data: dict[str, str],
    time: datetime,
    *,
    only_consent: bool,
) -> int:
    result = await session.execute(
        text(_NOTICE),
        {
            "cid": str(customer_id),
            "partner": partner_id,
            "kind": kind,
            "type": event_type,
            "data": json.dumps(data),
            "ce_time": _rfc3339(time),
            "only_consent": only_consent,
        },
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # an INSERT's CursorResult has rowcount
