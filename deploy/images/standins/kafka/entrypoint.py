"""Start the broker stand-in from the apache/kafka variables docker-compose.yml sets.

``KAFKA_LISTENERS`` gives the PLAINTEXT port to listen on (every address),
``KAFKA_ADVERTISED_LISTENERS`` the PLAINTEXT address clients are sent to, ``CLUSTER_ID``
the cluster id. The rest of the KAFKA_* settings (KRaft roles, replication factors,
``KAFKA_LOG_DIRS``) have no counterpart: the broker is one node and keeps everything in
memory, so a restart loses topics and records (the services re-declare the topics and
their outboxes are the source of truth: deploy/README.md).
"""

from __future__ import annotations

import os
import sys


def plaintext(listeners: str, default: str) -> tuple[str, str]:
    """(host, port) of the PLAINTEXT entry of a Kafka listener list."""
    for entry in listeners.split(","):
        name, _, address = entry.strip().partition("://")
        if name == "PLAINTEXT":
            host, _, port = address.rpartition(":")
            return host, port
    host, _, port = default.rpartition(":")
    return host, port


def main() -> None:
    _, port = plaintext(os.environ.get("KAFKA_LISTENERS", ""), ":9092")
    advertised_host, advertised_port = plaintext(os.environ.get("KAFKA_ADVERTISED_LISTENERS", ""), f"localhost:{port}")
    argv = [
        "tansu",
        "broker",
        "--cluster-id",
        os.environ.get("CLUSTER_ID", "relacja"),
        "--listener-url",
        f"tcp://0.0.0.0:{port}",
        "--advertised-listener-url",
        f"tcp://{advertised_host or 'localhost'}:{advertised_port}",
        "--storage-engine",
        "memory://tansu/",
    ]
    print("broker stand-in:", " ".join(argv), flush=True)
    # Tansu reads these as defaults of its flags; only the flags above may configure it.
    env = {k: v for k, v in os.environ.items() if k not in {"OTEL_EXPORTER_OTLP_ENDPOINT", "SCHEMA_REGISTRY"}}
    os.execvpe("tansu", argv, env)


if __name__ == "__main__":
    sys.exit(main())
