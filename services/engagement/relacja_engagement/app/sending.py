"""The sender: due messages → the send-time checks → rendering → SMTP / webhook → the log.

One pass (:func:`send_due`), run by the worker every ``sender_interval_seconds``:

1. claim up to ``sender_batch_size`` due messages (``scheduled`` or ``deferred`` with
   ``due_at <= now``), ``FOR UPDATE SKIP LOCKED``, and a transaction-scoped advisory lock
   per customer (two sender processes never judge the same customer's cap at once);
2. read through the customers service the contact details of customers not read yet
   (or changed since: ``profile_fetched_at`` null);
3. read the batch's consents, suppressed addresses and sent-in-window counts (one query
   each) and decide each message (``domain.decision``), counting the batch's own sends
   against the cap;
4. suppressed → ``suppressed`` + reason; deferred → ``deferred`` until the quiet hours end;
   to send → coupon (loyalty, idempotent per message), review link (hook), render
   (StrictUndefined), deliver (connections in parallel);
5. sent → ``sent`` + ``MessageSentV1`` (the customer's timeline); a transient failure →
   retried after ``retry_base_seconds × 2^(attempts-1)``, ``failed`` after ``max_attempts``;
   a permanent one → ``failed`` at once.

``now`` is a parameter: the worker passes the clock, the tests and the benchmark theirs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import MessageSentV1

from ..domain import templating
from ..domain.decision import CONSENT_PURPOSE, Outcome, SendFacts, decide
from ..domain.zones import zone_for
from ..tables import campaigns, consents, known_customers, messages, suppressions, templates, triggers
from .actions import ReviewUnavailable, review_url
from .events import outbox
from .peers import CouponRefused, Peers, PeerUnavailable
from .policy import load_policy
from .templates import customer_variables

__all__ = ["PassResult", "Transport", "send_due"]


class Transport(Protocol):
    async def send(self, outgoing: Any) -> Any: ...


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    suppressed: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0


_CLAIM = text(
    """
    SELECT m.id, m.customer_id FROM eng_messages m
    WHERE m.status IN ('scheduled', 'deferred') AND m.due_at <= :now
    ORDER BY m.due_at
    LIMIT :limit
    FOR UPDATE OF m SKIP LOCKED
    """
)

# One advisory lock per customer of the claimed batch (transaction-scoped), so a second
# sender process never counts the same customer's cap at the same time; a customer
# locked elsewhere waits for the next pass (their rows stay locked by us until commit).
_LOCK_CUSTOMERS = text(
    "SELECT c FROM unnest(CAST(:customers AS uuid[])) AS c WHERE pg_try_advisory_xact_lock(7108, hashtext(c::text))"
)


def _address(channel: str, customer: Any) -> str | None:
    if customer is None:
        return None
    if channel == "email":
        return customer.email
    if channel == "sms":
        return customer.phone
    return str(customer.customer_id)  # push: the provider maps the customer to their devices


async def _refresh_profiles(
    session: AsyncSession, peers: Peers, customer_ids: list[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Read through the customers service the ones not read yet; the ids it could not answer for."""
    stale = (
        (
            await session.execute(
                select(known_customers.c.customer_id).where(
                    known_customers.c.customer_id.in_(customer_ids), known_customers.c.profile_fetched_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    known = set(
        (
            await session.execute(
                select(known_customers.c.customer_id).where(known_customers.c.customer_id.in_(customer_ids))
            )
        ).scalars()
    )
    todo = list(set(stale) | (set(customer_ids) - known))
    unavailable: set[uuid.UUID] = set()
    limit = asyncio.Semaphore(16)

    async def one(customer_id: uuid.UUID) -> None:
        async with limit:
            try:
                profile = await peers.fetch_profile(customer_id)
            except PeerUnavailable:
                unavailable.add(customer_id)
                return
        values: dict[str, Any] = {
            "display_name": profile.display_name,
            "given_name": profile.given_name,
            "email": profile.email.lower() if profile.email else None,
            "phone": profile.phone,
            "preferred_language": profile.preferred_language,
            "country": profile.country,
            "profile_fetched_at": now,
        }
        if not profile.found or profile.erased:
            values["state"] = "erased" if profile.erased else "merged"
        fetched.append((customer_id, values))

    fetched: list[tuple[uuid.UUID, dict[str, Any]]] = []
    await asyncio.gather(*(one(c) for c in todo))
    for customer_id, values in fetched:
        statement = insert(known_customers).values(
            customer_id=customer_id, state=values.pop("state", "active"), **values
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[known_customers.c.customer_id],
                set_={**values, **({"state": statement.excluded.state} if "state" in values else {})},
            )
        )
    return unavailable


async def _sent_counts(
    session: AsyncSession, customer_ids: list[uuid.UUID], windows: Mapping[str, int], now: datetime
) -> dict[tuple[uuid.UUID, str], int]:
    if not windows:
        return {}
    clauses = [
        and_(messages.c.channel == channel, messages.c.sent_at > now - timedelta(days=days))
        for channel, days in windows.items()
    ]
    rows = await session.execute(
        select(messages.c.customer_id, messages.c.channel, func.count())
        .where(
            messages.c.customer_id.in_(customer_ids),
            messages.c.purpose == "marketing",
            messages.c.sent_at.is_not(None),
            or_(*clauses),
        )
        .group_by(messages.c.customer_id, messages.c.channel)
    )
    return {(c, ch): n for c, ch, n in rows.all()}


async def send_due(
    session: AsyncSession,
    *,
    now: datetime,
    batch_size: int,
    peers: Peers,
    transports: Mapping[str, Transport],
    default_time_zone: str,
    max_attempts: int,
    retry_base_seconds: float,
    make_outgoing: Callable[..., Any],
) -> PassResult:
    """One pass of the sender inside the caller's transaction."""
    result = PassResult()
    claimed = (await session.execute(_CLAIM, {"now": now, "limit": batch_size})).all()
    if not claimed:
        return result
    mine = set((await session.execute(_LOCK_CUSTOMERS, {"customers": list({c for _, c in claimed})})).scalars().all())
    ids = [i for i, c in claimed if c in mine]
    result.claimed = len(claimed)
    if not ids:
        return result
    rows = (
        await session.execute(
            select(
                messages,
                func.coalesce(triggers.c.coupon_offer_id, campaigns.c.coupon_offer_id).label("coupon_offer_id"),
                func.coalesce(triggers.c.request_review, False).label("request_review"),
                templates.c.variants,
                templates.c.fallback_language,
            )
            .outerjoin(triggers, triggers.c.id == messages.c.trigger_id)
            .outerjoin(campaigns, campaigns.c.id == messages.c.campaign_id)
            .outerjoin(templates, templates.c.id == messages.c.template_id)
            .where(messages.c.id.in_(ids))
            .order_by(messages.c.due_at)
        )
    ).all()
    customer_ids = list({r.customer_id for r in rows})
    unavailable = await _refresh_profiles(session, peers, customer_ids, now)
    customers = {
        r.customer_id: r
        for r in (
            await session.execute(select(known_customers).where(known_customers.c.customer_id.in_(customer_ids)))
        ).all()
    }
    held = {
        (c, p): g
        for c, p, g in (
            await session.execute(
                select(consents.c.customer_id, consents.c.purpose, consents.c.granted).where(
                    consents.c.customer_id.in_(customer_ids)
                )
            )
        ).all()
    }
    addresses = {(r.channel, a) for r in rows if (a := _address(r.channel, customers.get(r.customer_id)))}
    blocked: set[tuple[str, str]] = set()
    if addresses:
        blocked = {
            (ch, a)
            for ch, a in (
                await session.execute(
                    select(suppressions.c.channel, suppressions.c.address).where(
                        tuple_(suppressions.c.channel, suppressions.c.address).in_(list(addresses))
                    )
                )
            ).all()
        }
    policy = await load_policy(session)
    counts = await _sent_counts(session, customer_ids, {ch: cap.window_days for ch, cap in policy.caps.items()}, now)

    to_send: list[tuple[Any, Any, str]] = []
    for row in rows:
        if row.customer_id in unavailable:
            await _retry(
                session,
                row,
                now,
                "customers service unavailable",
                max_attempts,
                retry_base_seconds,
                result,
                count=False,
            )
            continue
        customer = customers.get(row.customer_id)
        address = _address(row.channel, customer)
        local_now = now.astimezone(zone_for(customer.country if customer else None, default_time_zone))
        decision = decide(
            SendFacts(
                purpose=row.purpose,
                customer_active=customer is not None and customer.state == "active",
                address=address,
                address_suppressed=(row.channel, address) in blocked if address else False,
                consent=held.get((row.customer_id, CONSENT_PURPOSE[row.channel])),
                sent_in_window=counts.get((row.customer_id, row.channel), 0),
                cap=policy.caps.get(row.channel),
                local_now=local_now,
                quiet_start=policy.quiet_start,
                quiet_end=policy.quiet_end,
            )
        )
        if decision.outcome is Outcome.SUPPRESS:
            await _set(session, row.id, now, status="suppressed", reason=decision.reason)
            result.suppressed += 1
        elif decision.outcome is Outcome.DEFER:
            assert decision.defer_until is not None
            await _set(
                session,
                row.id,
                now,
                status="deferred",
                reason=decision.reason,
                due_at=decision.defer_until.astimezone(UTC),
            )
            result.deferred += 1
        else:
            if row.purpose == "marketing":
                counts[(row.customer_id, row.channel)] = counts.get((row.customer_id, row.channel), 0) + 1
            assert address is not None
            to_send.append((row, customer, address))

    prepared: list[tuple[Any, Any, str, str | None, str]] = []
    for row, customer, address in to_send:
        try:
            variables = await _variables(session, peers, row, customer, now)
            language = templating.pick_language(row.variants, customer.preferred_language, row.fallback_language)
            variant = row.variants[language]
            subject = templating.render(variant["subject"], variables) if variant.get("subject") else None
            body = templating.render(variant["body"], variables)
        except PeerUnavailable as exc:
            await _retry(session, row, now, str(exc), max_attempts, retry_base_seconds, result)
            continue
        except (CouponRefused, ReviewUnavailable) as exc:
            await _set(session, row.id, now, status="failed", reason="action_failed", last_error=str(exc)[:500])
            result.failed += 1
            continue
        except Exception as exc:
            await _set(
                session,
                row.id,
                now,
                status="failed",
                reason="render_error",
                last_error=f"{type(exc).__name__}: {exc}"[:500],
            )
            result.failed += 1
            continue
        prepared.append((row, variables, address, subject, body))

    deliveries = await asyncio.gather(
        *(
            transports[row.channel].send(make_outgoing(str(row.id), row.channel, address, subject, body))
            for row, _, address, subject, body in prepared
        )
    )
    sent_events = []
    for (row, _, address, _, _), delivery in zip(prepared, deliveries, strict=True):
        if delivery.sent:
            await _set(
                session,
                row.id,
                now,
                status="sent",
                reason=None,
                address=address,
                provider_message_id=delivery.provider_id,
                sent_at=now,
                attempts=row.attempts + 1,
                last_error=None,
            )
            sent_events.append(
                MessageSentV1(
                    customer_id=row.customer_id,
                    message_id=row.id,
                    channel=row.channel,
                    purpose=row.purpose,
                    trigger_id=row.trigger_id,
                    campaign_id=row.campaign_id,
                    template_id=row.template_id,
                    sent_at=now,
                )
            )
            result.sent += 1
        elif delivery.permanent:
            await _set(
                session,
                row.id,
                now,
                status="failed",
                reason="rejected",
                last_error=delivery.error,
                attempts=row.attempts + 1,
                address=address,
            )
            result.failed += 1
        else:
            await _retry(
                session, row, now, delivery.error or "delivery failed", max_attempts, retry_base_seconds, result
            )
    if sent_events:
        await outbox.add_many(session, sent_events)
    return result


async def _variables(session: AsyncSession, peers: Peers, row: Any, customer: Any, now: datetime) -> dict[str, Any]:
    variables: dict[str, Any] = {"customer": customer_variables(customer), "event": dict(row.context or {})}
    if row.coupon_offer_id is not None:
        if row.coupon_code is None:
            coupon = await peers.issue_coupon(row.coupon_offer_id, row.customer_id, row.id)
            await _set(session, row.id, now, coupon_id=coupon.coupon_id, coupon_code=coupon.code)
            variables["coupon_code"] = coupon.code
        else:
            variables["coupon_code"] = row.coupon_code
    if row.request_review:
        variables["review_url"] = await review_url(
            session, customer_id=row.customer_id, context=dict(row.context or {}), now=now
        )
    return variables


async def _set(session: AsyncSession, message_id: uuid.UUID, now: datetime, **values: Any) -> None:
    await session.execute(messages.update().where(messages.c.id == message_id).values(updated_at=now, **values))


async def _retry(
    session: AsyncSession,
    row: Any,
    now: datetime,
    error: str,
    max_attempts: int,
    base: float,
    result: PassResult,
    *,
    count: bool = True,
) -> None:
    attempts = row.attempts + 1 if count else row.attempts
    if attempts >= max_attempts:
        await _set(
            session, row.id, now, status="failed", reason="delivery_failed", attempts=attempts, last_error=error[:500]
        )
        result.failed += 1
        return
    delay = timedelta(seconds=base * 2 ** max(attempts - 1, 0))
    await _set(session, row.id, now, due_at=now + delay, attempts=attempts, last_error=error[:500])
    result.retried += 1
