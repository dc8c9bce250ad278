"""Tickets at scale: agent queues and the at-risk list with 1,000,000 tickets, and the SLA
breach watcher with 100,000 open tickets.

    python -m bench.tickets_sla [--tickets 1000000] [--open 100000] [--requests 1000] [--breaches 1000]

Targets (issue 5): queue and at-risk p95 ≤ 50 ms with 1,000,000 tickets; the breach
watcher keeps up with 100,000 open tickets and flags a breach within 5 s of its due time.

Method. Its own stack (``bench_config(slot=4)`` in ``bench/_stack.py``: PostgreSQL, the
broker and the tickets service only, on the bench ports + 400 + ``RELACJA_BENCH_PORT_OFFSET``,
state in ``.state/bench-tickets``, emptied at start and stopped at the end).

1. Load (not measured), set-based in SQL with ``generate_series``: one SLA policy;
   ``--tickets`` tickets opened over two years, of which ``--open`` are active (new, open or
   pending the customer) spread over 500 agents and 20 teams with next due times from
   1 minute to 3 days ahead, the rest resolved or closed; two SLA clocks per ticket
   (2,000,000 rows), running for the active ones. Secondary indexes are dropped for the
   load and re-created after it, then ``VACUUM ANALYZE`` and a ``CHECKPOINT`` (so writing
   the loaded pages out does not overlap the measurements).
2. Latency: ``--requests`` sequential requests per kind over one keep-alive connection
   straight to the service after 100 warm-up requests: an agent's queue (random agent),
   a team's queue (first page and the page after a cursor), the at-risk list (60 minutes,
   all teams and one team). Client-side wall time, including httpx on the same machine.
3. Breach watcher: ``--breaches`` running clocks of open tickets are moved to fall due at
   random instants over the next 20 s (one UPDATE), then the bench waits until all are
   flagged; the lag of each is ``breached_at − due_at``. Then a burst: another
   ``--breaches`` clocks all due at the same instant. Every flag must produce exactly one
   ``SlaBreachedV1`` in the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import time
from collections.abc import Callable

import asyncpg
import httpx

from relacja_devstack import Stack
from relacja_devstack.config import REPO_ROOT

from ._stack import bench_config, load_average, median, percentile

log = logging.getLogger("bench.tickets")

AGENTS, TEAMS = 500, 20
# Its own port slot and state folder, so it runs beside the other benchmarks (slot 1:
# customers, 2: gateway; 4: tickets, as in port 28104).
SLOT = 4
STATE_DIR = REPO_ROOT / ".state" / "bench-tickets"
POLICY_ID = "00000000-0000-4000-8000-000000000001"


async def load(conn: asyncpg.Connection, tickets: int, open_tickets: int) -> None:
    indexes = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename IN ('tickets', 'sla_clocks') AND NOT x.indisprimary"
    )
    started = time.perf_counter()
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    await conn.execute("SET maintenance_work_mem = '512MB'")
    await conn.execute(
        """
        INSERT INTO sla_policies (id, name, team, time_zone, working_hours, holidays, rules, version, created_at, updated_at)
        VALUES ($1, 'Bench', NULL, 'Europe/Warsaw',
                '{"monday": [["00:00","24:00"]], "tuesday": [["00:00","24:00"]], "wednesday": [["00:00","24:00"]],
                  "thursday": [["00:00","24:00"]], "friday": [["00:00","24:00"]], "saturday": [["00:00","24:00"]],
                  "sunday": [["00:00","24:00"]]}',
                '{}', '[{"priorities": [], "types": [], "first_response_minutes": 60, "resolution_minutes": 4320}]', 1, now(), now())
        """,
        POLICY_ID,
    )
    # Ticket g is active when g <= open_tickets; ids are random so that active ones are spread over the table.
    await conn.execute(
        f"""
        INSERT INTO tickets (id, customer_id, order_id, type, channel, priority, status, subject, description, assignee_id, team,
                             tags, policy_id, next_due_at, sla_breached, first_response_seconds, resolution_seconds, version,
                             opened_at, updated_at, first_responded_at, resolved_at, closed_at)
        SELECT gen_random_uuid(), gen_random_uuid(), NULL,
               (ARRAY['question','complaint','return_request','technical_problem','other'])[1 + g % 5],
               (ARRAY['phone','email','chat','web_form','social','in_person'])[1 + g % 6],
               (ARRAY['low','normal','high','urgent'])[1 + g % 4],
               CASE WHEN g <= {open_tickets} THEN (ARRAY['new','open','pending_customer'])[1 + g % 3]
                    ELSE (ARRAY['resolved','closed','closed','closed'])[1 + g % 4] END,
               'Ticket ' || g, 'Generated for the benchmark',
               'agent-' || (g % {AGENTS}), 'team-' || (g % {TEAMS}), ARRAY['bench'], $1,
               CASE WHEN g <= {open_tickets} AND g % 3 <> 2 THEN now() + make_interval(secs => 60 + random() * 259200)
                    ELSE '9999-12-31 00:00:00+00'::timestamptz END,
               false,
               CASE WHEN g > {open_tickets} THEN (random() * 7200)::int END,
               CASE WHEN g > {open_tickets} THEN (random() * 200000)::int END,
               1, o, o, CASE WHEN g > {open_tickets} THEN o + interval '1 hour' END,
               CASE WHEN g > {open_tickets} THEN o + interval '2 days' END,
               CASE WHEN g > {open_tickets} AND g % 4 <> 0 THEN o + interval '9 days' END
        FROM (SELECT g, CASE WHEN g <= {open_tickets} THEN now() - random() * interval '3 days'
                             ELSE now() - interval '4 days' - random() * interval '720 days' END AS o
              FROM generate_series(1, $2::int) g) s
        """,
        POLICY_ID,
        tickets,
    )
    # Clocks: resolution runs for active, unpaused tickets (due = next_due_at); first response is met.
    await conn.execute(
        """
        INSERT INTO sla_clocks (ticket_id, target, target_seconds, elapsed_seconds, running_since, due_at, met_at, breached_at)
        SELECT id, 'first_response', 3600, 600, NULL::timestamptz, opened_at + interval '1 hour', opened_at + interval '10 minutes', NULL::timestamptz FROM tickets
        UNION ALL
        SELECT id, 'resolution', 259200, 0,
               CASE WHEN next_due_at < '9999-01-01' THEN opened_at END,
               CASE WHEN next_due_at < '9999-01-01' THEN next_due_at END,
               CASE WHEN status IN ('resolved', 'closed') THEN resolved_at END, NULL
        FROM tickets
        """
    )
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("VACUUM ANALYZE tickets")
    await conn.execute("VACUUM ANALYZE sla_clocks")
    # Write the loaded pages out now, so the checkpoint does not run under the measurements.
    await conn.execute("CHECKPOINT")
    counts = await conn.fetchrow(
        "SELECT count(*) AS tickets, count(*) FILTER (WHERE status IN ('new','open','pending_customer')) AS active FROM tickets"
    )
    assert counts is not None  # an aggregate without GROUP BY returns one row
    log.info(
        "loaded %d tickets (%d active) and %d clocks in %.0f s",
        counts["tickets"],
        counts["active"],
        await conn.fetchval("SELECT count(*) FROM sla_clocks"),
        time.perf_counter() - started,
    )


async def measure(
    client: httpx.AsyncClient, name: str, next_url: Callable[[], str], requests: int, warmup: int = 100
) -> str:
    statuses: dict[int, int] = {}
    samples: list[float] = []
    for i in range(warmup + requests):
        url = next_url()
        started = time.perf_counter()
        response = await client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
        if i >= warmup:
            samples.append(elapsed)
    return (
        f"{name:<40} n={len(samples):>5}  p50 {median(samples):6.2f} ms  p95 {percentile(samples, 95):6.2f} ms  "
        f"p99 {percentile(samples, 99):6.2f} ms  max {max(samples):7.2f} ms"
    )


async def latencies(base_url: str, requests: int) -> list[str]:
    rng = random.Random(5)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        cursors: dict[str, str] = {}
        for team in range(TEAMS):
            page = (await client.get("/api/v1/tickets/queue", params={"team": f"team-{team}"})).json()
            cursors[f"team-{team}"] = page["next_cursor"]
        return [
            await measure(
                client,
                "agent queue (first page, 50)",
                lambda: f"/api/v1/tickets/queue?assignee_id=agent-{rng.randrange(AGENTS)}",
                requests,
            ),
            await measure(
                client,
                "team queue (first page)",
                lambda: f"/api/v1/tickets/queue?team=team-{rng.randrange(TEAMS)}",
                requests,
            ),
            await measure(
                client,
                "team queue (second page, cursor)",
                lambda: (lambda t: f"/api/v1/tickets/queue?team={t}&cursor={cursors[t]}")(
                    f"team-{rng.randrange(TEAMS)}"
                ),
                requests,
            ),
            await measure(
                client, "at-risk, 60 min, all teams", lambda: "/api/v1/tickets/at-risk?within_minutes=60", requests
            ),
            await measure(
                client,
                "at-risk, 240 min, one team",
                lambda: f"/api/v1/tickets/at-risk?within_minutes=240&team=team-{rng.randrange(TEAMS)}",
                requests,
            ),
        ]


async def breach_round(conn: asyncpg.Connection, count: int, *, spread_seconds: float, lead_seconds: float) -> str:
    """Make ``count`` running clocks fall due within the next seconds; wait for all flags; the lags."""
    chosen = await conn.fetch(
        """
        UPDATE sla_clocks c SET due_at = clock_timestamp() + make_interval(secs => $2 + random() * $3)
        FROM (SELECT ticket_id FROM sla_clocks
              WHERE target = 'resolution' AND running_since IS NOT NULL AND met_at IS NULL AND breached_at IS NULL
                AND due_at > now() + interval '1 hour'
              ORDER BY random() LIMIT $1) pick
        WHERE c.ticket_id = pick.ticket_id AND c.target = 'resolution'
        RETURNING c.ticket_id, c.due_at
        """,
        count,
        lead_seconds,
        spread_seconds,
    )
    ids = [row["ticket_id"] for row in chosen]
    await conn.execute(
        "UPDATE tickets t SET next_due_at = c.due_at FROM sla_clocks c WHERE c.ticket_id = t.id AND c.target = 'resolution' AND t.id = ANY($1)",
        ids,
    )
    deadline = time.monotonic() + lead_seconds + spread_seconds + 60
    while time.monotonic() < deadline:
        flagged = await conn.fetchval(
            "SELECT count(*) FROM sla_clocks WHERE ticket_id = ANY($1) AND target = 'resolution' AND breached_at IS NOT NULL",
            ids,
        )
        if flagged == len(ids):
            break
        await asyncio.sleep(0.5)
    rows = await conn.fetch(
        "SELECT extract(epoch FROM breached_at - due_at) AS lag FROM sla_clocks WHERE ticket_id = ANY($1) AND target = 'resolution'",
        ids,
    )
    lags = [float(r["lag"]) for r in rows if r["lag"] is not None]
    events = await conn.fetchval(
        "SELECT count(*) FROM outbox_events WHERE event_type = 'relacja.tickets.sla.breached.v1' AND (payload->>'ticket_id')::uuid = ANY($1)",
        ids,
    )
    if not lags:
        return f"{len(ids)} clocks due: none flagged within the wait"
    return (
        f"{len(ids)} clocks due, {len(lags)} flagged, {events} events; lag p50 {median(lags):.2f} s, "
        f"p95 {percentile(lags, 95):.2f} s, max {max(lags):.2f} s, min {min(lags):.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--breaches", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stack = Stack(bench_config(["tickets"], slot=SLOT, state_dir=STATE_DIR, ready_timeout=120.0))
    await stack.start(fresh=True)
    try:
        dsn = stack.database_url("tickets").replace("+asyncpg", "")
        conn = await asyncpg.connect(dsn)
        try:
            await load(conn, args.tickets, args.open)
            lines = await latencies(stack.service_url("tickets"), args.requests)
            load_during = load_average()  # the 1-minute figure covers the latency measurements
            spread = await breach_round(conn, args.breaches, spread_seconds=20, lead_seconds=3)
            burst = await breach_round(conn, args.breaches, spread_seconds=0, lead_seconds=3)
            watch_plan = await conn.fetchval(
                "EXPLAIN (ANALYZE, FORMAT TEXT) SELECT ticket_id FROM sla_clocks WHERE due_at IS NOT NULL AND met_at IS NULL "
                "AND breached_at IS NULL AND running_since IS NOT NULL AND due_at <= now() ORDER BY due_at LIMIT 500"
            )
        finally:
            await conn.close()
    finally:
        await stack.stop()
    print(
        f"\n{platform.node()} · {os.cpu_count()} cores · after the latencies: {load_during} · at the end: {load_average()}"
    )
    print(f"{args.tickets:,} tickets, {args.open:,} active\n")
    for line in lines:
        print(line)
    print(f"\nbreach watcher, due over 20 s : {spread}")
    print(f"breach watcher, burst at once : {burst}")
    print(f"watch query plan (first line) : {watch_plan}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
