"""PostgreSQL and the broker on their own, on spare ports (a few seconds)."""

import asyncio
import socket

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from relacja_devstack.broker import Broker
from relacja_devstack.postgres import Postgres
from relacja_devstack.processes import port_is_free


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_postgres_keeps_data_across_restarts(tmp_path):
    pg = Postgres(tmp_path / "state", _free_port())
    for round_ in (1, 2):
        await asyncio.to_thread(pg.start)
        try:
            assert await pg.ensure_databases(["relacja_x"]) == (["relacja_x"] if round_ == 1 else [])
            conn = await asyncpg.connect(pg.dsn("relacja_x"))
            await conn.execute("CREATE TABLE IF NOT EXISTS t (n int); INSERT INTO t VALUES (1)")
            assert await conn.fetchval("SELECT count(*) FROM t") == round_
            assert await conn.fetchval("SELECT upper('żółć')") == "ŻÓŁĆ"
            await conn.close()
        finally:
            await asyncio.to_thread(pg.stop)
        assert not pg.is_running() and port_is_free("127.0.0.1", pg.port)


async def test_broker_answers_and_stops(tmp_path):
    (tmp_path / "state").mkdir()
    broker = Broker(tmp_path / "state", _free_port())
    await broker.start(declare_topics=False)
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        await admin.start()
        assert await admin.list_topics() == []
        await admin.close()
    finally:
        await broker.stop()
    assert not broker.is_running() and port_is_free("127.0.0.1", broker.port)
