"""Sales at scale: a rep's pipeline board and a manager's quarterly forecast over many
opportunities and activities, and a burst of reminders due in the same minute.

    python -m bench.sales_pipeline [--opportunities 1000000] [--activities 5000000]
                                   [--requests 300] [--reminders 100000]

Targets (issue 16): with 1,000,000 opportunities and 5,000,000 activities a rep's board
(open deals by stage, own only) p95 ≤ 50 ms and a manager's forecast for a quarter
p95 ≤ 200 ms; reminders fired ≤ 60 s after their time with 100,000 due in the same minute.

Method. Its own stack (``bench_config(["sales"], slot=SLOT)``: PostgreSQL, the broker and
the sales service, state in ``.state/bench-sales``, emptied at start, stopped at the end).

1. Load (not measured), set-based with ``generate_series``: one pipeline of 4 open stages
   (10/30/60/80 %) + won + lost; ``--opportunities`` deals over 2,000 reps in 100 teams,
   forecast dates over two years, 25 % open, 25 % won, 50 % lost, 80 % PLN, 15 % EUR,
   5 % USD (monthly EUR and USD rates); ``--activities`` activities spread over the deals.
   Secondary indexes are dropped for the load and re-created after it, then ``VACUUM
   ANALYZE`` and a ``CHECKPOINT``.
2. Latency: ``--requests`` sequential requests per kind over one keep-alive connection
   straight to the service (with the identity headers the gateway writes) after 30
   warm-up requests: the board of a random rep; the forecast of the current quarter for a
   manager (all deals), ungrouped and grouped by owner. Client wall time.
3. Reminders: ``--reminders`` open activities get ``remind_at`` = one instant 5 s ahead
   (one UPDATE); the bench waits until all are stamped; the lag is ``reminded_at −
   remind_at``; every reminder must have exactly one ``ActivityDueV1`` in the outbox.
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
from datetime import UTC, date, datetime

import asyncpg
import httpx

from relacja_devstack import Stack
from relacja_devstack.config import REPO_ROOT

from ._stack import bench_config, load_average, median, percentile

log = logging.getLogger("bench.sales")

REPS, TEAMS = 2_000, 100
SLOT = 9
STATE_DIR = REPO_ROOT / ".state" / "bench-sales"
PIPELINE_ID = "00000000-0000-4000-8000-0000000000a1"
STAGES = [  # (id suffix, name, probability, is_won, is_closed)
    (1, "Qualify", 10, False, False),
    (2, "Discover", 30, False, False),
    (3, "Propose", 60, False, False),
    (4, "Negotiate", 80, False, False),
    (5, "Won", 100, True, True),
    (6, "Lost", 0, False, True),
]


def _stage_id(suffix: int) -> str:
    return f"00000000-0000-4000-8000-0000000001{suffix:02d}"


async def load(conn: asyncpg.Connection, opportunities: int, activities: int) -> None:
    indexes = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename IN ('opportunities', 'activities') "
        "AND NOT x.indisprimary AND NOT x.indisunique"
    )
    started = time.perf_counter()
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    await conn.execute("SET maintenance_work_mem = '256MB'")
    await conn.execute(
        "INSERT INTO pipelines (id, name, version, created_at, updated_at) VALUES ($1, 'Bench', 1, now(), now())",
        PIPELINE_ID,
    )
    for position, (suffix, name, probability, won, closed) in enumerate(STAGES):
        await conn.execute(
            "INSERT INTO stages (id, pipeline_id, position, name, probability, is_won, is_closed, active) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, true)",
            _stage_id(suffix), PIPELINE_ID, position, name, probability, won, closed,
        )  # fmt: skip
    await conn.execute("INSERT INTO loss_reasons (code, label) VALUES ('price', 'Price')")
    await conn.execute(
        "INSERT INTO exchange_rates (currency, valid_from, rate) "
        "SELECT c, d::date, CASE c WHEN 'EUR' THEN 4.30 - 0.01 * (g % 10) ELSE 3.90 + 0.01 * (g % 10) END "
        "FROM unnest(ARRAY['EUR','USD']) c, generate_series(0, 36) g, "
        "LATERAL (SELECT date_trunc('month', now()) - interval '24 months' + make_interval(months => g) AS d) m"
    )
    # Deal g: status by g % 4 (0, 1 open ... see below), stage for open deals by g % 4 of g / 4.
    await conn.execute(
        f"""
        INSERT INTO opportunities (id, customer_id, name, owner_id, team, pipeline_id, stage_id, probability, status,
                                   amount, currency, expected_close_date, source, forecast_date, loss_reason,
                                   stage_entered_at, created_at, updated_at, closed_at, version)
        SELECT gen_random_uuid(), gen_random_uuid(), 'Deal ' || g, 'rep-' || (g % {REPS}),
               'team-' || (g % {REPS} % {TEAMS}), '{PIPELINE_ID}'::uuid,
               CASE s WHEN 'open' THEN ('00000000-0000-4000-8000-0000000001' || lpad((1 + (g / 4) % 4)::text, 2, '0'))::uuid
                      WHEN 'won' THEN '{_stage_id(5)}'::uuid ELSE '{_stage_id(6)}'::uuid END,
               CASE s WHEN 'open' THEN (ARRAY[10, 30, 60, 80])[1 + (g / 4) % 4] WHEN 'won' THEN 100 ELSE 0 END,
               s, round((100 + random() * 50000)::numeric, 2),
               CASE WHEN g % 20 = 0 THEN 'USD' WHEN g % 20 < 4 THEN 'EUR' ELSE 'PLN' END,
               d, 'manual', d, CASE s WHEN 'lost' THEN 'price' END,
               now() - interval '10 days', now() - interval '30 days', now(),
               CASE WHEN s <> 'open' THEN d::timestamptz END, 1
        FROM (SELECT g, CASE WHEN g % 4 = 0 THEN 'open' WHEN g % 4 = 1 THEN 'won' ELSE 'lost' END AS s,
                     (current_date - 365 + (random() * 730)::int) AS d
              FROM generate_series(1, $1::int) g) x
        """,
        opportunities,
    )
    await conn.execute(
        """
        INSERT INTO activities (id, kind, customer_id, opportunity_id, subject, assignee_id, team, status, due_at,
                                created_at, updated_at, version)
        SELECT gen_random_uuid(), (ARRAY['call','meeting','to_do'])[1 + a.g % 3], o.customer_id, o.id, 'Follow up',
               o.owner_id, o.team, CASE WHEN a.g % 5 = 0 THEN 'open' ELSE 'done' END,
               now() - interval '400 days' + random() * interval '800 days',
               now() - interval '30 days', now(), 1
        FROM (SELECT id, customer_id, owner_id, team, row_number() OVER () AS n FROM opportunities) o
        JOIN generate_series(1, $1::int) a(g) ON o.n = 1 + (a.g % $2::int)
        """,
        activities,
        opportunities,
    )
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("VACUUM ANALYZE opportunities")
    await conn.execute("VACUUM ANALYZE activities")
    await conn.execute("CHECKPOINT")
    log.info(
        "loaded %d opportunities and %d activities in %.0f s",
        await conn.fetchval("SELECT count(*) FROM opportunities"),
        await conn.fetchval("SELECT count(*) FROM activities"),
        time.perf_counter() - started,
    )


def _quarter() -> tuple[date, date]:
    today = datetime.now(UTC).date()
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    end = date(today.year + (first_month == 10), (first_month + 3 - 1) % 12 + 1, 1).toordinal() - 1
    return start, date.fromordinal(end)


async def measure(client: httpx.AsyncClient, requests: int, make: Callable[[], tuple[str, dict[str, str]]]) -> str:
    for _ in range(30):
        url, headers = make()
        (await client.get(url, headers=headers)).raise_for_status()
    samples = []
    for _ in range(requests):
        url, headers = make()
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return f"p50 {median(samples):6.1f} ms   p95 {percentile(samples, 95):6.1f} ms   max {max(samples):6.1f} ms"


async def latencies(base_url: str, requests: int) -> list[str]:
    start, end = _quarter()
    manager = {"X-Relacja-Principal": "manager", "X-Relacja-Roles": "sales_manager"}

    def board() -> tuple[str, dict[str, str]]:
        rep = random.randrange(REPS)
        return (
            f"/api/v1/sales/opportunities/board?pipeline_id={PIPELINE_ID}",
            {"X-Relacja-Principal": f"rep-{rep}", "X-Relacja-Team": f"team-{rep % TEAMS}"},
        )

    def forecast(group_by: str) -> Callable[[], tuple[str, dict[str, str]]]:
        return lambda: (f"/api/v1/sales/forecast?start={start}&end={end}&group_by={group_by}", manager)

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        sample = (await client.get(forecast("none")()[0], headers=manager)).json()
        log.info("quarter %s..%s: %s", start, end, sample["total"])
        return [
            f"board, a rep's own open deals by stage : {await measure(client, requests, board)}",
            f"forecast, quarter, manager, ungrouped   : {await measure(client, requests, forecast('none'))}",
            f"forecast, quarter, manager, by owner    : {await measure(client, requests, forecast('owner'))}",
        ]


async def reminder_burst(conn: asyncpg.Connection, count: int) -> str:
    due = await conn.fetchval("SELECT date_trunc('second', clock_timestamp()) + interval '5 seconds'")
    await conn.execute(
        "UPDATE activities SET remind_at = $1::timestamptz, due_at = $1::timestamptz + interval '1 hour' "
        "WHERE id IN (SELECT id FROM activities WHERE status = 'open' LIMIT $2)",
        due,
        count,
    )
    while True:
        left = await conn.fetchval("SELECT count(*) FROM activities WHERE remind_at = $1 AND reminded_at IS NULL", due)
        if left == 0:
            break
        await asyncio.sleep(0.5)
    lag = await conn.fetchrow(
        "SELECT max(reminded_at - remind_at) AS worst, percentile_cont(0.5) WITHIN GROUP "
        "(ORDER BY extract(epoch FROM reminded_at - remind_at)) AS median FROM activities WHERE remind_at = $1",
        due,
    )
    events = await conn.fetchrow(
        "SELECT count(*) AS events, count(DISTINCT payload->>'activity_id') AS distinct_activities FROM outbox_events "
        "WHERE event_type = 'relacja.sales.activity.due.v1'"
    )
    assert lag is not None and events is not None
    assert events["events"] == events["distinct_activities"] == count, dict(events)
    return (
        f"{count:,} reminders due at one instant: last fired {lag['worst'].total_seconds():.1f} s after its time "
        f"(median {lag['median']:.1f} s); {events['events']:,} ActivityDueV1 events, one per reminder"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reminders", type=int, default=100_000)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stack = Stack(bench_config(["sales"], slot=SLOT, state_dir=STATE_DIR, ready_timeout=300.0))
    await stack.start(fresh=True)
    try:
        conn = await asyncpg.connect(stack.database_url("sales").replace("+asyncpg", ""))
        try:
            await load(conn, args.opportunities, args.activities)
            lines = await latencies(stack.service_url("sales"), args.requests)
            load_during = load_average()
            for line in lines:
                log.info("%s", line)
            burst = await reminder_burst(conn, args.reminders)
            plan = await conn.fetchval(
                "EXPLAIN (ANALYZE, FORMAT TEXT) SELECT currency, forecast_date, sum(amount), count(*) FROM opportunities "
                "WHERE status <> 'lost' AND forecast_date BETWEEN $1 AND $2 GROUP BY 1, 2",
                *_quarter(),
            )
        finally:
            await conn.close()
    finally:
        await stack.stop()
    print(f"\n{platform.node()} · {os.cpu_count()} cores · after the latencies: {load_during} · end: {load_average()}")
    print(f"{args.opportunities:,} opportunities, {args.activities:,} activities\n")
    for line in lines:
        print(line)
    print(f"\nreminders: {burst}")
    print(f"forecast scan plan (first line): {plan}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
