"""``kafka-broker-api-versions.sh --bootstrap-server HOST:PORT`` for the broker stand-in.

Sends one Kafka ApiVersions request (version 0) over TCP and exits 0 only when the broker
answers it without an error code, printing the API keys it supports: the same verdict the
official image's tool gives, with the standard library only.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

API_VERSIONS = 18
CORRELATION_ID = 1
CLIENT_ID = b"relacja-healthcheck"


def request() -> bytes:
    header = struct.pack(">hhih", API_VERSIONS, 0, CORRELATION_ID, len(CLIENT_ID)) + CLIENT_ID
    return struct.pack(">i", len(header)) + header


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data


def api_versions(host: str, port: int, timeout: float) -> list[tuple[int, int, int]]:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request())
        (size,) = struct.unpack(">i", read_exactly(sock, 4))
        body = read_exactly(sock, size)
    correlation_id, error_code, count = struct.unpack(">ihi", body[:10])
    if correlation_id != CORRELATION_ID:
        raise ValueError(f"answer to correlation id {correlation_id}, not {CORRELATION_ID}")
    if error_code != 0:
        raise ValueError(f"ApiVersions error code {error_code}")
    return [struct.unpack(">hhh", body[10 + 6 * i : 16 + 6 * i]) for i in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-server", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    host, _, port = args.bootstrap_server.split(",")[0].rpartition(":")
    try:
        keys = api_versions(host, int(port), args.timeout)
    except (OSError, ValueError, struct.error) as err:
        print(f"{args.bootstrap_server}: {err}", file=sys.stderr)
        return 1
    print(f"{args.bootstrap_server} -> (")
    for key, low, high in keys:
        print(f"\tapi key {key}: {low} to {high}")
    print(")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
