"""The steady load of the fault scenarios and the soak: real traffic through the gateway.

One :class:`SteadyLoad` drives, open loop (each request starts at its scheduled time, so a
stall shows as latency and as refused requests, never as a slower schedule):

- orders placed (``POST /api/v1/orders`` with an Idempotency-Key) — the main stream;
- customer changes (``PATCH /api/v1/customers/{id}`` with If-Match);
- ticket updates (``PATCH /api/v1/tickets/{id}`` with If-Match);
- partner feed reads (``GET /partner/v1/feeds/{agreement}/events`` with the partner's API key);
- webhook deliveries: the partner's endpoint is a real HTTP receiver on loopback and every
  placed order is pushed to it by the sharing service (a contract-basis agreement shares
  every customer's orders).

Every write answered 2xx is recorded in :attr:`SteadyLoad.accepted` (kind, id, the value the
write set): the verdict (``verdict.py``) checks each one is present afterwards. A write that
timed out or was refused is not counted as accepted: the client was not told it happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from relacja_devstack import Stack

from ..webhook_receiver import WebhookReceiver

__all__ = ["Accepted", "LoadMix", "SteadyLoad"]

PLACED = "relacja.orders.order.placed.v1"


@dataclass(frozen=True)
class Accepted:
    """One write the gateway answered 2xx: what must be there afterwards."""

    kind: str  # order | customer | ticket
    id: str
    value: str  # order: its number; customer: the given_name set; ticket: the subject set
    at: float
    version: int = 0  # customer, ticket: the version the write produced (orders: 0)


@dataclass(frozen=True)
class LoadMix:
    """Requests per second of each kind (orders are the steady stream, the rest background)."""

    orders: float = 10.0
    customer_changes: float = 2.0
    ticket_updates: float = 2.0
    feed_reads: float = 1.0


@dataclass
class SteadyLoad:
    stack: Stack
    mix: LoadMix = field(default_factory=LoadMix)
    customers: int = 20
    timeout: float = 10.0
    accepted: list[Accepted] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, status or error)
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    _customers: list[dict[str, Any]] = field(default_factory=list)
    _tickets: list[dict[str, Any]] = field(default_factory=list)
    _skus: list[str] = field(default_factory=list)
    _agreement: str = ""
    _partner_key: str = ""
    _receiver: WebhookReceiver | None = None
    _staff: httpx.AsyncClient | None = None
    _partner: httpx.AsyncClient | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _running: bool = False

    # -- set-up ---------------------------------------------------------------------------

    async def __aenter__(self) -> SteadyLoad:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._staff = httpx.AsyncClient(
            base_url=self.stack.gateway_url,
            headers={"Authorization": f"Bearer {self.stack.token(['admin'], ttl_seconds=24 * 3600)}"},
            timeout=self.timeout,
            limits=limits,
            trust_env=False,
        )
        self._receiver = WebhookReceiver()
        await self._receiver.__aenter__()
        await self._setup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        for client in (self._staff, self._partner):
            if client is not None:
                await client.aclose()
        if self._receiver is not None:
            await self._receiver.__aexit__(None, None, None)

    async def _created(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code not in (200, 201):
            raise AssertionError(f"load set-up: {response.request.method} {response.request.url} -> {response.text}")
        return response.json()

    async def _setup(self) -> None:
        staff = self._staff
        assert staff is not None and self._receiver is not None
        suffix = uuid.uuid4().hex[:8]
        for n in range(3):
            sku = f"FLT-{suffix.upper()}-{n}"
            body = {"sku": sku, "name": "Kubek", "category": "kitchen", "list_price": "40.00", "tax_rate": "0.23"}
            await self._created(await staff.post("/api/v1/products", json=body | {"currency": "PLN"}))
            self._skus.append(sku)
        for n in range(self.customers):
            body = {"kind": "person", "given_name": "Ola", "family_name": f"Fault{suffix}{n}"}
            self._customers.append(await self._created(await staff.post("/api/v1/customers", json=body)))
        partner = await self._created(
            await staff.post("/api/v1/sharing/partners", json={"legal_name": f"Fault {suffix} Sp. z o.o."})
        )
        agreement = await self._created(
            await staff.post(
                "/api/v1/sharing/agreements",
                json={
                    "partner_id": partner["id"],
                    "name": f"Fault {suffix} deliveries",
                    "purposes": ["delivery"],
                    "direction": "outbound",
                    "legal_basis": "contract",
                    "allowed_fields": {PLACED: ["order_number", "total_amount", "currency", "status"]},
                },
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        )
        await self._created(
            await staff.post(
                f"/api/v1/sharing/agreements/{agreement['id']}/activate",
                headers={"If-Match": f'"{agreement["version"]}"'},
            )
        )
        key = await self._created(
            await staff.post(
                f"/api/v1/sharing/partners/{partner['id']}/keys",
                json={"label": "fault harness"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        )
        self._agreement = agreement["id"]
        self._partner = httpx.AsyncClient(
            base_url=self.stack.gateway_url,
            headers={"Authorization": f"Bearer {key['api_key']}"},
            timeout=self.timeout,
            trust_env=False,
        )
        await self._created(
            await self._partner.post(
                f"/partner/v1/agreements/{self._agreement}/endpoints",
                json={"url": self._receiver.url("/hook"), "description": "fault harness"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        )
        # Orders and tickets accept a customer they know (projection or read-through): wait for
        # the projection so the load measures placement, not the first read-through.
        for customer in self._customers[:4]:
            ticket = {
                "customer_id": customer["id"],
                "type": "complaint",
                "channel": "email",
                "priority": "normal",
                "subject": "start",
            }
            self._tickets.append(await self._created(await staff.post("/api/v1/tickets", json=ticket)))

    # -- the stream -----------------------------------------------------------------------

    def start(self) -> None:
        """Start every stream in the background (stop with :meth:`stop`)."""
        self._running = True
        for rate, send in (
            (self.mix.orders, self._place_order),
            (self.mix.customer_changes, self._change_customer),
            (self.mix.ticket_updates, self._update_ticket),
            (self.mix.feed_reads, self._read_feed),
        ):
            if rate > 0:
                self._spawn(self._paced(rate, send))

    async def stop(self) -> None:
        self._running = False
        tasks = list(self._tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_for(self, seconds: float) -> None:
        self.start()
        await asyncio.sleep(seconds)
        await self.stop()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _paced(self, rate: float, send: Any) -> None:
        interval = 1.0 / rate
        next_at = time.monotonic()
        while self._running:
            self._spawn(self._timed(send, next_at))
            next_at += interval
            # Always yield, even when behind: the requests just scheduled must get to run.
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _timed(self, send: Any, scheduled: float) -> None:
        kind = send.__name__.lstrip("_")
        try:
            status = await send()
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.TransportError as err:
            status = type(err).__name__
        self.outcomes[(kind, str(status))] += 1
        self.latencies[kind].append((scheduled, time.monotonic() - scheduled))

    def _ok(self, response: httpx.Response) -> bool:
        return 200 <= response.status_code < 300

    async def _place_order(self) -> int:
        assert self._staff is not None
        body = {
            "customer_id": random.choice(self._customers)["id"],
            "channel": "web",
            "currency": "PLN",
            "lines": [{"sku": random.choice(self._skus), "quantity": random.randint(1, 3)}],
        }
        response = await self._staff.post("/api/v1/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        if self._ok(response):
            order = response.json()
            self.accepted.append(Accepted("order", order["id"], order["number"], time.monotonic()))
        return response.status_code

    async def _change_customer(self) -> int:
        assert self._staff is not None
        customer = random.choice(self._customers)
        name = f"Ola{uuid.uuid4().hex[:6]}"
        response = await self._staff.patch(
            f"/api/v1/customers/{customer['id']}",
            json={"given_name": name},
            headers={"If-Match": f'"{customer["version"]}"', "Content-Type": "application/merge-patch+json"},
        )
        if self._ok(response):
            customer.update(response.json())
            self.accepted.append(Accepted("customer", customer["id"], name, time.monotonic(), customer["version"]))
        elif response.status_code == 412:  # another change won the race: take its version
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                customer.update((await self._staff.get(f"/api/v1/customers/{customer['id']}")).json())
        return response.status_code

    async def _update_ticket(self) -> int:
        assert self._staff is not None
        ticket = random.choice(self._tickets)
        subject = f"update {uuid.uuid4().hex[:8]}"
        response = await self._staff.patch(
            f"/api/v1/tickets/{ticket['id']}",
            json={"subject": subject},
            headers={"If-Match": f'"{ticket["version"]}"', "Content-Type": "application/merge-patch+json"},
        )
        if self._ok(response):
            ticket.update(response.json())
            self.accepted.append(Accepted("ticket", ticket["id"], subject, time.monotonic(), ticket["version"]))
        elif response.status_code == 412:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                ticket.update((await self._staff.get(f"/api/v1/tickets/{ticket['id']}")).json())
        return response.status_code

    async def _read_feed(self) -> int:
        assert self._partner is not None
        response = await self._partner.get(f"/partner/v1/feeds/{self._agreement}/events", params={"limit": "50"})
        return response.status_code

    # -- what happened --------------------------------------------------------------------

    def latest(self) -> dict[tuple[str, str], Accepted]:
        """The last accepted write per (kind, id): the value that must be there now."""
        last: dict[tuple[str, str], Accepted] = {}
        for write in sorted(self.accepted, key=lambda w: w.at):
            last[(write.kind, write.id)] = write
        return last

    def webhook_order_numbers(self) -> list[tuple[str, str]]:
        """(webhook-id, order number) of every delivery received by the partner's endpoint."""
        assert self._receiver is not None
        numbers = []
        for got in self._receiver.received("/hook"):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                numbers.append((got.headers.get("webhook-id", ""), json.loads(got.body)["data"]["order_number"]))
        return numbers

    @property
    def customer_ids(self) -> list[str]:
        return [c["id"] for c in self._customers]

    @property
    def agreement_id(self) -> str:
        return self._agreement
