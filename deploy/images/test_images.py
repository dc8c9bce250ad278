"""The images, run as an operator runs them (``make test-images``, after ``make images``).

PostgreSQL and the broker come from the local stack's own code (``Stack.start_infrastructure``,
state in ``.state/images``, the test profile's ports); every service and the gateway then
run from their images, hardened the way docker-compose.yml and the Kubernetes manifests
run them: read-only root filesystem, ``/tmp`` on tmpfs, uid 10001, every capability
dropped, no privilege escalation. Each database service's image first runs its migration
command (the one the compose file and the k8s Job use), then the service; every
``/readyz`` must answer 200, and a customer created through the containerised gateway must
reach the containerised segmentation consumer (its profile appears), with a token minted by
the gateway image's own command (deploy/README.md).

Containers share the host's network (as the local stack's services do), so each listens
on its test-profile port, set through ``UVICORN_PORT`` — which also checks that the image
honours the ``UVICORN_<OPTION>`` variables deploy/README.md promises. Everything started
here is removed at the end, passed or failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from gateway_journey import customer_reaches_segmentation

from relacja_devstack import Stack, StackConfig
from relacja_devstack.services import ServiceSpec

HERE = Path(__file__).resolve().parent
TAG = os.environ.get("RELACJA_TAG", "local")
CONTAINER_PREFIX = "relacja-image-check-"
# The hardening of docker-compose.yml's `x-hardened` and of the manifests' securityContext.
HARDENED = (
    "--network=host",
    "--read-only",
    "--tmpfs=/tmp",
    "--user=10001:10001",
    "--cap-drop=all",
    "--security-opt=no-new-privileges",
)
READY_WITHIN_SECONDS = 180.0


def image(spec: ServiceSpec) -> str:
    return f"localhost/relacja/{spec.name}:{TAG}"


async def podman(*args: str, timeout: float = 300.0) -> str:
    env = dict(os.environ, CONTAINERS_CONF=str(HERE / "containers.conf"))
    proc = await asyncio.create_subprocess_exec(
        "podman", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    if proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {proc.returncode}:\n{err.decode()[-3000:]}")
    return out.decode()


def service_env(config: StackConfig, spec: ServiceSpec) -> dict[str, str]:
    """What an operator sets for one container: its own settings, nothing of this host's."""
    prefix = spec.env_prefix
    env = {
        f"{prefix}_ENVIRONMENT": config.environment,
        "UVICORN_HOST": config.host,
        "UVICORN_PORT": str(config.port(spec.name)),
    }
    if spec.database:
        env[f"{prefix}_DATABASE_URL"] = config.database_url(spec.name)
    if spec.is_gateway:
        upstreams = {s.name: config.service_url(s.name) for s in config.services if not s.is_gateway}
        env[f"{prefix}_UPSTREAMS"] = json.dumps(upstreams)
        env[f"{prefix}_JWT_SECRET"] = config.jwt_secret
    else:
        env[f"{prefix}_KAFKA_BOOTSTRAP"] = config.bootstrap_servers
    for upstream in spec.reads_from:
        env[f"{prefix}_{upstream.upper()}_URL"] = config.service_url(upstream)
    return env


def env_args(env: dict[str, str]) -> list[str]:
    return [f"--env={key}={value}" for key, value in env.items()]


async def remove_containers() -> None:
    names = await podman("ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^{CONTAINER_PREFIX}")
    for name in names.split():
        await podman("rm", "-f", "-t", "5", name)


async def wait_ready(client: httpx.AsyncClient, spec: ServiceSpec, url: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = await client.get(f"{url}/readyz")
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.TransportError as err:
            last = repr(err)
        await asyncio.sleep(1.0)
    logs = await podman("logs", "--tail", "40", f"{CONTAINER_PREFIX}{spec.name}")
    raise AssertionError(f"{spec.name}: /readyz not 200 within {READY_WITHIN_SECONDS:.0f} s ({last})\n{logs}")


@pytest.fixture(scope="module")
async def infrastructure() -> AsyncIterator[Stack]:
    env = dict(os.environ)
    env.setdefault("RELACJA_STACK_TEST_STATE_DIR", ".state/images")
    stack = Stack(StackConfig.for_profile("test", env=env))
    await remove_containers()  # left over by an interrupted earlier run
    await stack.start_infrastructure(fresh=True)
    try:
        yield stack
    finally:
        await stack.stop()


@pytest.fixture(scope="module")
async def running(infrastructure: Stack) -> AsyncIterator[Sequence[ServiceSpec]]:
    config = infrastructure.config
    services = [s for s in config.services if not s.is_gateway]
    gateways = [s for s in config.services if s.is_gateway]
    try:
        # The migration command of the compose file and the k8s Job, in the same image.
        await asyncio.gather(
            *(
                podman(
                    "run",
                    "--rm",
                    f"--name={CONTAINER_PREFIX}{spec.name}-migrate",
                    *HARDENED,
                    *env_args(service_env(config, spec)),
                    image(spec),
                    "alembic",
                    "-c",
                    "/app/alembic.ini",
                    "upgrade",
                    "head",
                )
                for spec in services
                if spec.database
            )
        )
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
            for group in (services, gateways):
                for spec in group:
                    await podman(
                        "run",
                        "--detach",
                        f"--name={CONTAINER_PREFIX}{spec.name}",
                        *HARDENED,
                        *env_args(service_env(config, spec)),
                        image(spec),
                    )
                await asyncio.gather(*(wait_ready(client, s, config.service_url(s.name)) for s in group))
        yield config.services
    finally:
        await remove_containers()


async def test_every_image_is_ready_under_the_operators_hardening(
    infrastructure: Stack, running: Sequence[ServiceSpec]
) -> None:
    for spec in running:
        inspected = await podman(
            "inspect",
            "--format",
            "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}",
            f"{CONTAINER_PREFIX}{spec.name}",
        )
        read_only, user, *_ = inspected.split()
        assert (read_only, user) == ("true", "10001:10001"), f"{spec.name}: {inspected}"
        assert "no-new-privileges" in inspected, f"{spec.name}: {inspected}"
        # The process really runs without a capability and cannot write its root filesystem.
        status = await podman("exec", f"{CONTAINER_PREFIX}{spec.name}", "grep", "^CapEff", "/proc/1/status")
        assert status.split()[1] == "0000000000000000", f"{spec.name}: {status}"
        writable = await podman(
            "exec", f"{CONTAINER_PREFIX}{spec.name}", "sh", "-c", "touch /app/probe 2>/dev/null && echo yes || echo no"
        )
        assert writable.strip() == "no", f"{spec.name}: its root filesystem is writable"


async def test_a_customer_created_through_the_gateway_reaches_the_segmentation_consumer(
    infrastructure: Stack, running: Sequence[ServiceSpec]
) -> None:
    # The token comes from the gateway image's own command, as deploy/README.md tells an
    # operator to mint one (`... exec gateway python -m relacja_gateway.tokens --scopes admin`),
    # with the secret the containerised gateway was given.
    gateway_spec = next(spec for spec in running if spec.is_gateway)
    minted = await podman(
        "run",
        "--rm",
        *HARDENED,
        *env_args(service_env(infrastructure.config, gateway_spec)),
        image(gateway_spec),
        "python",
        "-m",
        "relacja_gateway.tokens",
        "--scopes",
        "admin",
    )
    await customer_reaches_segmentation(infrastructure.gateway_url, minted.strip(), "Ewa Kontener")
