"""PostgreSQL, the broker and the SMTP sink on their own, on spare ports (a few seconds)."""

import asyncio
import socket

import asyncpg
import pytest
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


async def test_smtp_sink_keeps_each_message_as_an_eml_file(tmp_path):
    """A real SMTP conversation (smtplib) with the sink's own process; the test reads the mail back."""
    import smtplib
    from email.message import EmailMessage

    from relacja_devstack.mail import SmtpSink
    from relacja_devstack.smtp_sink import INCOMING
    from tests.support_mail import mail_body, read_mail, wait_for_mail

    state = tmp_path / "state"
    state.mkdir()
    sink = SmtpSink(state, state / "mail", _free_port())
    await sink.start()
    try:
        assert read_mail(sink.mail_dir) == []

        def send() -> None:
            with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
                for n, to in enumerate(("ada@example.com", "zoë@example.com")):
                    message = EmailMessage()
                    message["From"] = "Relacja <no-reply@relacja.test>"
                    message["To"] = to
                    message["Subject"] = f"Dziękujemy za zakup #{n}"
                    message.set_content(f"Zażółć gęślą jaźń {n}\nhttps://relacja.test/r/{n}\n")
                    client.send_message(message)

        await asyncio.to_thread(send)
        found = await wait_for_mail(sink.mail_dir, lambda m: m["To"] == "zoë@example.com", timeout=10)
        assert found["Subject"] == "Dziękujemy za zakup #1"
        assert found["X-RcptTo"] == "zoë@example.com" and found["X-MailFrom"] == "no-reply@relacja.test"
        assert "Zażółć gęślą jaźń 1" in mail_body(found)

        messages = read_mail(sink.mail_dir)
        assert [m["To"] for m in messages] == ["ada@example.com", "zoë@example.com"]  # order of arrival
        assert sorted(p.name for p in (sink.mail_dir / INCOMING).iterdir()) == []  # nothing half-written left
        assert len(list(sink.mail_dir.glob("*.eml"))) == 2
        with pytest.raises(AssertionError, match="no matching mail"):
            await wait_for_mail(sink.mail_dir, lambda m: m["To"] == "nobody@example.com", timeout=0.5)
    finally:
        await sink.stop()
    assert not sink.is_running() and port_is_free("127.0.0.1", sink.port)
