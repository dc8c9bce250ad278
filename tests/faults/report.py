"""docs/reliability.md, written by the fault harness from the scenarios' verdicts.

One table: per scenario, the writes accepted (2xx), lost and doubled, the events some
consumer never applied, the outbox rows left unpublished, accepted orders the partner's
webhook never got, whether segmentation's projection equals its rebuild by replay, the
recovery time (end of the fault until everything applied and published) and the scenario's
own figures (e.g. the gateway's p99 for a stopped service). Then the requests' outcomes per
scenario, so refusals during a fault (503, timeouts) are visible too.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from .verdict import Verdict

__all__ = ["write_report", "run_started"]

HEADER = """# Reliability: the fault scenarios and their verdicts

Written by the fault harness (`tests/faults/`, issue 20): `make test-faults` regenerates this
file (`make test-faults-ci`, the bounded subset `.ci/run` runs, writes `.state/test/reliability.md`).
How the harness works, the verdict and how to run one scenario: the end of this file.

What the harness found (the first runs, 2026-12-05) and how it was fixed:

- *Broker restarted, log lost*: events written while the broker was down were never applied by
  seven consumers. Their fetch positions were offsets of the lost log; they fetched from there in
  the new log (the relays' replay, shorter than the old one) before the broker made them rejoin
  their groups, and committed: the new log's beginning was skipped for good. A consumer now checks,
  before applying a fetch, that the broker still has the offsets it committed, and re-reads its
  partitions from the beginning when it does not (`relacja_messaging.consumer`; docs/operations.md,
  "Broker loss").
- The same restart also re-created topics with the broker's default partition count (4, not the
  contracts' 6: a client's metadata request auto-creates a topic before the topics are declared
  again). A relay that had published to partition 4 or 5 then asked for their end offsets on every
  pass, never got an answer and published nothing more — the outbox rows left unpublished after
  the broker restart and in the 2 s blackhole scenario that ran after it. A partition that is gone
  is now a loss like a vanished topic: the relay replays (`relacja_messaging.relay`, which also
  bounds every wait on the broker and replaces its Kafka clients after a failed pass).

Each has a test on a real broker and PostgreSQL that fails without the fix:
`tests/integration/test_broker_faults.py`.

- *PostgreSQL restarted* (the full runs of 2026-12-05 and 12-06): 3 and 4 orders answered 500, and
  a partner feed read 502 (the gateway's answer when the sharing service's API-key check answers
  500). While PostgreSQL starts up, SQLAlchemy re-raises asyncpg's `CannotConnectNowError` ("the
  database system is starting up") as a plain `DBAPIError`; only its cause said it was the outage.
  `relacja_messaging.errors.is_transient` now follows the `raise … from` chain, and also counts a
  pooled connection left mid-operation by the cut ("cannot switch to state …"): both are a 503
  with `Retry-After` (and an unlimited retry for a consumer). The verdict now fails a scenario on
  any 500 answer (column "answers 500"); unit tests in `tests/unit/test_transient_errors.py`.

Recovery of about 60 s (PostgreSQL restarted, `kill -9` of sharing) is the webhook queue's lease
(`relacja_webhooks.worker`, 60 s): a delivery whose attempt was in flight when its worker died,
or whose result could not be recorded, is tried again when the lease expires — at least once,
with the same `webhook-id`, so the partner de-duplicates (the "webhook redeliveries" figure).

"""

FOOTER = """
## How it is measured

- The stack is the `test` profile with `RELACJA_STACK_TEST_FAULT_PROXIES=1`: every service reaches
  PostgreSQL and the broker through asyncio TCP proxies of its own (`deploy/local/relacja_devstack/faultproxy.py`;
  the broker's rewrites the broker port in Kafka metadata answers so every connection stays on it), so
  latency, a blackhole or a reset hits one service's link. `kill -9` is a SIGKILL of the service's process group; PostgreSQL is restarted
  with `pg_ctl stop -m fast` (every connection cut) and `start`; the broker (Tansu, in memory) is
  stopped and started again, losing its whole log: the relays detect it and replay their outboxes.
- The load (`tests/faults/load.py`), through the gateway, open loop: orders placed (Idempotency-Key),
  customer changes and ticket updates (If-Match), partner feed reads (API key), and one webhook
  delivery per placed order to a real receiver on loopback (a contract-basis sharing agreement).
- The verdict (`tests/faults/verdict.py`): *lost* = accepted writes not in the owning service's
  database (or overwritten by an older version); *doubled* = customers whose `orders_count` in
  segmentation exceeds their orders in the orders database, plus orders pushed to the partner
  under two different `webhook-id`s; *unapplied* = outbox events (of every service, written since the
  scenario began) of a type a consumer handles without its inbox row; *projection = rebuild*:
  segmentation's projection rebuilt into an empty database by replaying the topics with a new
  consumer group, MD5 of its event-fed columns (`tests/faults/rebuild.py`).
- *Recovery* is from the end of the fault (or of the load, whichever is later) until every outbox is
  published, every consumer has applied every event and every accepted order reached the webhook.
"""


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_started() -> str:
    """When the run started and the machine's load then (1, 5, 15 min averages)."""
    return f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average {_load()})"


def write_report(
    verdicts: list[Verdict], target: Path, *, scenarios: int | None = None, started: str | None = None
) -> None:
    """``scenarios``: how many the full run has; fewer verdicts than that put a warning on top."""
    lines = [HEADER]
    if scenarios is not None and len(verdicts) < scenarios:
        lines.append(
            f"> **Not the full run's table:** {len(verdicts)} of the {scenarios} scenarios have a verdict "
            "(a subset was run, or the run was cut short). `make test-faults` runs them all.\n"
        )
    lines.append(
        f"Run: started {started or '?'}, this table written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.node()}, {os.cpu_count()} cores, load average {_load()} now "
        "(a machine shared with other work: timings are generous bounds, not the machine's best)\n"
    )
    lines.append(
        "| scenario | verdict | writes accepted | lost | doubled | unapplied events | unpublished "
        "| webhooks missing | answers 500 | projection = rebuild | recovery s | figures |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for v in verdicts:
        figures = ", ".join(f"{k} {val}" for k, val in v.figures.items() if k != "outcomes_total") or "—"
        rebuilt = {True: "yes", False: "**no**", None: "not checked"}[v.projection_equal]
        lines.append(
            f"| {v.scenario} | {'pass' if v.passed else '**FAIL**'} | {v.accepted} | {v.lost} | {v.doubled} "
            f"| {v.unapplied} | {v.unpublished} | {v.webhooks_missing} | {v.internal_errors} | {rebuilt} | {v.recovery_seconds} | {figures} |"
        )
    lines.append("\n## Requests per scenario (kind: status → count)\n")
    for v in verdicts:
        outcomes = ", ".join(f"{k} {n}" for k, n in v.outcomes.items())
        lines.append(f"- **{v.scenario}**: {outcomes}; webhook redeliveries (same webhook-id) {v.webhook_redeliveries}")
        for detail in v.details[:5]:
            lines.append(f"  - {detail}")
    lines.append(FOOTER)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines))
