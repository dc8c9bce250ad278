"""The webhook sender against the real PostgreSQL and a real HTTP receiver on loopback:
signatures verify with ``standardwebhooks``; retries follow the (compressed) schedule and
Retry-After; 410 disables at once and continuous failure after the (compressed) window;
redirects are failures; DNS that turns to a refused address at connection time is refused;
per-key order, concurrency and rate limits hold; redelivery and cancellation."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from relacja_webhooks import (
    NewMessage,
    RetryPolicy,
    UnsafeUrlError,
    UrlPolicy,
    WorkerSettings,
    cancel_open,
    enqueue,
    redeliver_message,
    redeliver_since,
    register_endpoint,
    rotate_secret,
)
from relacja_webhooks.guard import IPAddress

from ...support import eventually
from ...webhook_receiver import WebhookReceiver
from .conftest import FAST, LOCAL, TABLES, RecordingHooks, running_worker

M, A, E = TABLES.messages, TABLES.attempts, TABLES.endpoints


async def new_endpoint(
    sessions: async_sessionmaker[AsyncSession], url: str, policy: UrlPolicy = LOCAL, **options: object
) -> tuple[uuid.UUID, str]:
    async with sessions() as session, session.begin():
        return await register_endpoint(session, TABLES, policy, url=url, **options)  # type: ignore[arg-type]


async def send(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: uuid.UUID, key: str, n: int = 1, start: int = 0
) -> list[str]:
    messages = [
        NewMessage(
            endpoint_id=endpoint_id,
            event_type="relacja.test.thing.happened.v1",
            ordering_key=key,
            body=json.dumps({"key": key, "seq": start + i}),
            meta={"seq": start + i},
        )
        for i in range(n)
    ]
    async with sessions() as session, session.begin():
        return await enqueue(session, TABLES, messages)


async def rows(sessions: async_sessionmaker[AsyncSession], query) -> list[dict]:
    async with sessions() as session:
        return [dict(r) for r in (await session.execute(query)).mappings().all()]


async def message(sessions: async_sessionmaker[AsyncSession], message_id: str) -> dict:
    (row,) = await rows(sessions, select(M).where(M.c.message_id == message_id))
    return row


async def test_a_delivery_carries_headers_that_verify_and_is_logged(wh_sessions, receiver: WebhookReceiver) -> None:
    endpoint_id, secret = await new_endpoint(wh_sessions, receiver.url("/ok"))
    hooks = RecordingHooks()
    (msg_id,) = await send(wh_sessions, endpoint_id, "customer-1")

    async with running_worker(wh_sessions, hooks=hooks):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"))

    (got,) = receiver.received("/ok")
    assert Webhook(secret).verify(got.body, got.headers) == {"key": "customer-1", "seq": 0}
    assert got.headers["webhook-id"] == msg_id
    assert got.headers["content-type"] == "application/json"
    (attempt,) = await rows(wh_sessions, select(A))
    assert attempt["outcome"] == "succeeded"
    assert attempt["status_code"] == 200
    assert attempt["response_excerpt"] == "ok"
    assert attempt["latency_ms"] >= 0
    assert [(m.message_id, m.meta) for m in hooks.delivered_messages] == [(msg_id, {"seq": 0})]


async def test_the_response_excerpt_is_bounded(wh_sessions, receiver: WebhookReceiver) -> None:
    receiver.script("/big", [(200, {}, b"x" * 100_000)])
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/big"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"))
    (attempt,) = await rows(wh_sessions, select(A))
    assert attempt["response_excerpt"] == "x" * 1024


async def test_a_rotated_secret_signs_beside_the_new_one(wh_sessions, receiver: WebhookReceiver) -> None:
    endpoint_id, old = await new_endpoint(wh_sessions, receiver.url("/rotated"))
    async with wh_sessions() as session, session.begin():
        new = await rotate_secret(session, TABLES, endpoint_id, datetime.now(UTC))
    assert new is not None and new != old
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"))
    (got,) = receiver.received("/rotated")
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)


async def test_failures_are_retried_on_the_compressed_schedule_then_succeed(wh_sessions, receiver) -> None:
    receiver.script("/flaky", [(500, {}, b"boom"), (502, {}, b"")])
    endpoint_id, secret = await new_endpoint(wh_sessions, receiver.url("/flaky"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")

    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"), timeout=20)

    got = receiver.received("/flaky")
    assert len(got) == 3
    assert len({g.headers["webhook-id"] for g in got}) == 1  # the same message each time
    for g in got:
        Webhook(secret).verify(g.body, g.headers)
    # 5 ms then 300 ms (±10 %): the second retry waits the second step.
    assert got[2].at - got[1].at >= 0.27
    attempts = await rows(wh_sessions, select(A).order_by(A.c.id))
    assert [(a["outcome"], a["status_code"]) for a in attempts] == [
        ("failed", 500),
        ("failed", 502),
        ("succeeded", 200),
    ]
    assert attempts[0]["response_excerpt"] == "boom"


async def test_retry_after_is_honoured_on_429(wh_sessions, receiver) -> None:
    receiver.script("/busy", [(429, {"Retry-After": "2"}, b"")])
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/busy"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"), timeout=20)
    first, second = receiver.received("/busy")
    assert second.at - first.at >= 1.9  # not the schedule's 5 ms


async def test_a_message_gives_up_after_the_last_retry(wh_sessions, receiver) -> None:
    quick = RetryPolicy(delays=(timedelta(milliseconds=10),) * 3)
    receiver.script("/down", [(500, {}, b"")] * 10)
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/down"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions, retry=quick):
        await eventually(lambda: _status(wh_sessions, msg_id, "failed"))
    assert len(receiver.received("/down")) == 4
    assert (await message(wh_sessions, msg_id))["failures"] == 4


async def test_410_disables_the_endpoint_at_once(wh_sessions, receiver) -> None:
    receiver.script("/gone", [(410, {}, b"")])
    hooks = RecordingHooks()
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/gone"))
    first, second = await send(wh_sessions, endpoint_id, "k", n=2)

    async with running_worker(wh_sessions, hooks=hooks):
        await eventually(lambda: _status(wh_sessions, first, "failed"))
        await asyncio.sleep(0.3)

    (endpoint,) = await rows(wh_sessions, select(E))
    assert (endpoint["status"], endpoint["disabled_reason"]) == ("disabled", "gone")
    assert hooks.disabled == [(endpoint_id, "gone")]
    assert len(receiver.received("/gone")) == 1
    assert (await message(wh_sessions, second))["status"] == "pending"  # kept, not sent to a disabled endpoint


async def test_an_endpoint_failing_for_the_whole_window_is_disabled(wh_sessions, receiver) -> None:
    # The 5-day window is proven on a fake clock in the unit tests; here it is 1 s of real time.
    retry = RetryPolicy(delays=(timedelta(milliseconds=100),) * 50, disable_after=timedelta(seconds=1))
    receiver.script("/failing", [(500, {}, b"")] * 100)
    hooks = RecordingHooks()
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/failing"))
    await send(wh_sessions, endpoint_id, "k")

    async with running_worker(wh_sessions, retry=retry, hooks=hooks):
        await eventually(lambda: _endpoint_status(wh_sessions, endpoint_id, "disabled"), timeout=20)

    (endpoint,) = await rows(wh_sessions, select(E))
    assert endpoint["disabled_reason"] == "failing"
    assert endpoint["disabled_at"] - endpoint["failing_since"] >= timedelta(seconds=1)
    assert hooks.disabled == [(endpoint_id, "failing")]


async def test_a_success_resets_the_failing_clock(wh_sessions, receiver) -> None:
    receiver.script("/recovers", [(500, {}, b"")])
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/recovers"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"))
    (endpoint,) = await rows(wh_sessions, select(E))
    assert (endpoint["status"], endpoint["failing_since"]) == ("enabled", None)


async def test_a_redirect_is_a_failure_and_is_not_followed(wh_sessions, receiver) -> None:
    receiver.script("/moved", [(302, {"Location": receiver.url("/target")}, b"")])
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/moved"))
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions, retry=RetryPolicy(delays=())):
        await eventually(lambda: _status(wh_sessions, msg_id, "failed"))
    assert receiver.received("/target") == []
    (attempt,) = await rows(wh_sessions, select(A))
    assert (attempt["outcome"], attempt["status_code"]) == ("failed", 302)


class SwitchingResolver:
    """DNS that answers one thing at registration and another a moment later (rebinding)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = [ipaddress.ip_address(a) for a in addresses]
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        return self.addresses


async def test_a_name_that_turns_to_a_refused_address_is_refused_at_connection(wh_sessions, receiver) -> None:
    dns = SwitchingResolver("93.184.216.34")
    strict_http = UrlPolicy(allow_http=True, resolver=dns)
    url = f"http://partner.example:{receiver.port}/rebound"
    endpoint_id, _ = await new_endpoint(wh_sessions, url, policy=strict_http)  # passes: a public address
    dns.addresses = [ipaddress.ip_address("127.0.0.1")]
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")

    async with running_worker(wh_sessions, policy=strict_http, retry=RetryPolicy(delays=())):
        await eventually(lambda: _status(wh_sessions, msg_id, "failed"))

    assert receiver.received("/rebound") == []
    (attempt,) = await rows(wh_sessions, select(A))
    assert attempt["status_code"] is None
    assert "loopback_address" in attempt["error"]
    with pytest.raises(UnsafeUrlError) as err:
        await new_endpoint(wh_sessions, url, policy=strict_http)
    assert err.value.rule == "loopback_address"


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(wh_sessions, receiver) -> None:
    dns = SwitchingResolver("127.0.0.1")
    local_names = UrlPolicy(allow_http=True, allow_loopback=True, resolver=dns)
    endpoint_id, _ = await new_endpoint(
        wh_sessions, f"http://partner.example:{receiver.port}/named", policy=local_names
    )
    (msg_id,) = await send(wh_sessions, endpoint_id, "k")
    async with running_worker(wh_sessions, policy=local_names):
        await eventually(lambda: _status(wh_sessions, msg_id, "succeeded"))
    (got,) = receiver.received("/named")
    assert got.headers["host"] == f"partner.example:{receiver.port}"
    assert "partner.example" in dns.asked


async def test_https_is_required_unless_the_operator_allows_http(wh_sessions, receiver) -> None:
    with pytest.raises(UnsafeUrlError) as err:
        await new_endpoint(wh_sessions, receiver.url("/plain"), policy=UrlPolicy(allow_loopback=True))
    assert err.value.rule == "https_required"
    with pytest.raises(UnsafeUrlError) as err:
        await new_endpoint(wh_sessions, receiver.url("/plain"), policy=UrlPolicy(allow_http=True))
    assert err.value.rule == "loopback_address"


async def test_a_later_message_of_a_key_waits_while_an_earlier_one_is_retried(wh_sessions, receiver) -> None:
    # Key A's first message fails twice.
    receiver.script("/ordered", [(500, {}, b""), (500, {}, b"")], body_contains=b'"key": "A", "seq": 0')
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/ordered"), max_concurrency=5)
    await send(wh_sessions, endpoint_id, "A", n=3)
    await send(wh_sessions, endpoint_id, "B", n=3)

    async with running_worker(wh_sessions):
        await eventually(lambda: _count(wh_sessions, "succeeded", 6), timeout=20)

    got = [json.loads(g.body) for g in receiver.received("/ordered")]
    a_seq = [g["seq"] for g in got if g["key"] == "A"]
    b_seq = [g["seq"] for g in got if g["key"] == "B"]
    assert a_seq == [0, 0, 0, 1, 2]  # two failures of seq 0, then in order
    assert b_seq == [0, 1, 2]
    # B did not wait for A: all of B arrived before A's first success.
    assert got.index({"key": "B", "seq": 2}) < got.index({"key": "A", "seq": 1})


async def test_concurrency_per_endpoint_is_limited(wh_sessions, receiver) -> None:
    receiver.delay("/slow", 0.3)
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/slow"), max_concurrency=2)
    for i in range(6):
        await send(wh_sessions, endpoint_id, f"k{i}")
    async with running_worker(wh_sessions, workers=2):
        await eventually(lambda: _count(wh_sessions, "succeeded", 6), timeout=20)
    starts = sorted(g.at for g in receiver.received("/slow"))
    most = max(sum(1 for s in starts if t <= s < t + 0.25) for t in starts)
    assert most <= 2
    assert starts[-1] - starts[0] >= 0.5  # three rounds of two


async def test_the_rate_limit_per_endpoint_holds(wh_sessions, receiver) -> None:
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/rated"), rate_limit_per_second=5)
    for i in range(15):
        await send(wh_sessions, endpoint_id, f"k{i}")
    async with running_worker(wh_sessions):
        await eventually(lambda: _count(wh_sessions, "succeeded", 15), timeout=20)
    starts = sorted(g.at for g in receiver.received("/rated"))
    # A bucket of one second (5) sent at once, then 5 per second: 10 more take ≥ 2 s.
    assert starts[-1] - starts[0] >= 1.8
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) <= 10


async def test_redelivery_of_one_message_and_of_all_since_a_time(wh_sessions, receiver) -> None:
    endpoint_id, secret = await new_endpoint(wh_sessions, receiver.url("/again"))
    first, second = await send(wh_sessions, endpoint_id, "k", n=2)
    async with running_worker(wh_sessions):
        await eventually(lambda: _count(wh_sessions, "succeeded", 2))
        async with wh_sessions() as session, session.begin():
            pk = (await message(wh_sessions, first))["id"]
            assert await redeliver_message(session, TABLES, pk)
        await eventually(lambda: _received(receiver, "/again", 3))
        await eventually(lambda: _count(wh_sessions, "succeeded", 2))
        async with wh_sessions() as session, session.begin():
            assert await redeliver_since(session, TABLES, endpoint_id, datetime.now(UTC) - timedelta(minutes=1)) == 2
        await eventually(lambda: _received(receiver, "/again", 5))
        await eventually(lambda: _count(wh_sessions, "succeeded", 2))
        await eventually(lambda: _attempts(wh_sessions, 5))
    ids = [g.headers["webhook-id"] for g in receiver.received("/again")]
    assert sorted(ids) == sorted([first, second, first, first, second])
    for g in receiver.received("/again"):
        Webhook(secret).verify(g.body, g.headers)


async def test_cancelled_messages_are_not_sent(wh_sessions, receiver) -> None:
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/cancel"))
    await send(wh_sessions, endpoint_id, "withdrawn", n=3)
    (kept,) = await send(wh_sessions, endpoint_id, "other")
    async with wh_sessions() as session, session.begin():
        assert await cancel_open(session, TABLES, [endpoint_id], "withdrawn") == 3
    async with running_worker(wh_sessions):
        await eventually(lambda: _status(wh_sessions, kept, "succeeded"))
    assert [json.loads(g.body)["key"] for g in receiver.received("/cancel")] == ["other"]


async def test_a_message_cancelled_in_flight_is_not_retried_and_later_ones_wait_for_it(wh_sessions, receiver) -> None:
    receiver.delay("/inflight", 1.0)
    receiver.script("/inflight", [(500, {}, b"")])
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/inflight"))
    first, second = await send(wh_sessions, endpoint_id, "k", n=2)
    async with running_worker(wh_sessions):
        await eventually(lambda: _received(receiver, "/inflight", 1))
        async with wh_sessions() as session, session.begin():
            assert await cancel_open(session, TABLES, [endpoint_id], "k") == 2  # one in flight, one pending
        await eventually(lambda: _status(wh_sessions, first, "cancelled"))
        await asyncio.sleep(0.5)
    assert len(receiver.received("/inflight")) == 1  # the failed attempt was not retried
    assert (await message(wh_sessions, second))["status"] == "cancelled"
    assert (await message(wh_sessions, first))["failures"] == 1


async def test_several_workers_deliver_each_message_once(wh_sessions, receiver) -> None:
    endpoint_id, _ = await new_endpoint(wh_sessions, receiver.url("/many"), max_concurrency=50)
    for batch in range(4):
        await send(wh_sessions, endpoint_id, f"k{batch}", n=50)
    async with running_worker(wh_sessions, workers=3, settings=WorkerSettings(poll_interval=0.02, claim_batch=20)):
        await eventually(lambda: _count(wh_sessions, "succeeded", 200), timeout=30)
    got = receiver.received("/many")
    assert len(got) == 200
    assert len({g.headers["webhook-id"] for g in got}) == 200
    for key in range(4):
        assert [json.loads(g.body)["seq"] for g in got if json.loads(g.body)["key"] == f"k{key}"] == list(range(50))


async def _status(sessions, message_id: str, status: str) -> bool:
    return (await message(sessions, message_id))["status"] == status


async def _endpoint_status(sessions, endpoint_id: uuid.UUID, status: str) -> bool:
    (row,) = await rows(sessions, select(E).where(E.c.id == endpoint_id))
    return row["status"] == status


async def _count(sessions, status: str, n: int) -> bool:
    return len(await rows(sessions, select(M.c.id).where(M.c.status == status))) == n


async def _attempts(sessions, n: int) -> bool:
    return len(await rows(sessions, select(A.c.id))) == n


async def _received(receiver: WebhookReceiver, path: str, n: int) -> bool:
    return len(receiver.received(path)) >= n


assert FAST.delays[0] == timedelta(milliseconds=5)
