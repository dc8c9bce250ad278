"""Configuration of the local stack: two profiles, every value overridable by env vars.

Two profiles exist so that ``make test`` can run beside ``make run`` on one machine:
they differ in every port and in the state folder, and ``test`` starts from an empty
state folder each run so test results never depend on what a developer left behind.

Overrides, in order of precedence (highest first):

1. ``RELACJA_STACK_<PROFILE>_<KEY>`` — e.g. ``RELACJA_STACK_TEST_PG_PORT``; applies to
   that profile only, so moving the dev stack never moves the test stack onto it;
2. ``RELACJA_STACK_<KEY>`` — e.g. ``RELACJA_STACK_PG_PORT``; applies to every profile;
3. the profile default.

Keys: ``STATE_DIR`` (relative paths are relative to the repository root), ``PG_PORT``,
``BROKER_PORT``, ``SMTP_PORT`` (the SMTP sink), ``<SERVICE>_PORT`` (``GATEWAY_PORT``,
``CUSTOMERS_PORT``, ...),
``JWT_SECRET``, ``FRESH`` (1/0), ``READY_TIMEOUT`` and ``MIGRATE_TIMEOUT`` (seconds),
``FAULT_PROXIES`` (1/0, default 0: the fault harness's proxies between the services and
PostgreSQL / the broker, see ``faultproxy.py``).

The config is a frozen dataclass: ``dataclasses.replace(config, pg_port=...)`` derives a
variant in code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypedDict

from .services import SERVICES, ServiceSpec, service_by_name

__all__ = ["PROFILES", "REPO_ROOT", "ProfileDefaults", "StackConfig"]

#: deploy/local/relacja_devstack/config.py → the repository root, three folders up.
REPO_ROOT: Path = Path(__file__).resolve().parents[3]

ENV_PREFIX = "RELACJA_STACK_"


class ProfileDefaults(TypedDict):
    """One profile's defaults, typed so each value reaches :class:`StackConfig` as its own type."""

    state_dir: str
    pg_port: int
    broker_port: int
    smtp_port: int
    jwt_secret: str
    environment: str
    fresh: bool


# Well-known secrets: they only protect a gateway bound to 127.0.0.1 on a developer box,
# and being fixed lets `python -m relacja_devstack token` mint a token the running
# gateway accepts without talking to it. 32+ bytes so PyJWT does not warn about HS256.
PROFILES: Mapping[str, ProfileDefaults] = MappingProxyType(
    {
        "dev": {
            "state_dir": ".state/dev",
            "pg_port": 55432,
            "broker_port": 9092,
            "smtp_port": 8025,
            "jwt_secret": "relacja-development-secret-not-for-production",  # = the gateway's own default
            "environment": "development",
            "fresh": False,
        },
        "test": {
            "state_dir": ".state/test",
            "pg_port": 55433,
            "broker_port": 19092,
            "smtp_port": 18025,
            "jwt_secret": "relacja-local-test-secret-not-for-production",
            "environment": "test",
            "fresh": True,
        },
    }
)


@dataclass(frozen=True)
class StackConfig:
    """Everything the runner needs to know; build it with :meth:`for_profile`."""

    profile: str
    state_dir: Path
    pg_port: int
    broker_port: int
    service_ports: Mapping[str, int]
    jwt_secret: str
    environment: str  # passed to every service as RELACJA_<NAME>_ENVIRONMENT
    fresh: bool  # wipe the state folder on start
    # Ten services start at once and each migrates and connects first: on a 2-core machine
    # that is busy with other work this took over a minute, and a ready service answers at once.
    ready_timeout: float = 180.0
    # The services reach PostgreSQL and the broker through fault-injecting proxies (tests/faults/).
    fault_proxies: bool = False
    # Every service's Alembic run starts at once; each has this long (a loaded machine's
    # imports alone took minutes when several stacks started together).
    migrate_timeout: float = 300.0
    # The SMTP sink (smtp_sink.py) the services that send e-mail are pointed at.
    smtp_port: int = PROFILES["dev"]["smtp_port"]
    host: str = "127.0.0.1"
    repo_root: Path = REPO_ROOT
    services: tuple[ServiceSpec, ...] = field(default=SERVICES)

    @classmethod
    def for_profile(cls, profile: str = "dev", env: Mapping[str, str] | None = None) -> StackConfig:
        """The profile's defaults with env-var overrides applied (``env`` defaults to os.environ)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
        env = os.environ if env is None else env
        defaults = PROFILES[profile]

        def get(key: str, default: object) -> str:
            for name in (f"{ENV_PREFIX}{profile.upper()}_{key}", f"{ENV_PREFIX}{key}"):
                value = env.get(name)
                if value not in (None, ""):
                    return value
            return str(default)

        def get_port(key: str, default: int) -> int:
            value = get(key, default)
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise ValueError(f"{ENV_PREFIX}[{profile.upper()}_]{key}={value!r} is not a TCP port")
            return int(value)

        state_dir = Path(get("STATE_DIR", defaults["state_dir"])).expanduser()
        if not state_dir.is_absolute():
            state_dir = REPO_ROOT / state_dir
        ports = {
            spec.name: get_port(f"{spec.name.upper()}_PORT", spec.test_port if profile == "test" else spec.dev_port)
            for spec in SERVICES
        }
        return cls(
            profile=profile,
            state_dir=state_dir,
            pg_port=get_port("PG_PORT", defaults["pg_port"]),
            broker_port=get_port("BROKER_PORT", defaults["broker_port"]),
            smtp_port=get_port("SMTP_PORT", defaults["smtp_port"]),
            service_ports=MappingProxyType(ports),
            jwt_secret=get("JWT_SECRET", defaults["jwt_secret"]),
            environment=defaults["environment"],
            fresh=_flag(get("FRESH", "1" if defaults["fresh"] else "0")),
            ready_timeout=float(get("READY_TIMEOUT", 180.0)),
            fault_proxies=_flag(get("FAULT_PROXIES", "0")),
            migrate_timeout=float(get("MIGRATE_TIMEOUT", 300.0)),
        )

    def service(self, name: str) -> ServiceSpec:
        return service_by_name(name, self.services)

    def port(self, service: str) -> int:
        self.service(service)  # a clear KeyError for unknown names
        return self.service_ports[service]

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def mail_dir(self) -> Path:
        """Where the SMTP sink keeps every message it receives, one ``.eml`` file each."""
        return self.state_dir / "mail"

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.broker_port}"

    def database_url(self, service: str) -> str:
        """SQLAlchemy URL of a service's own database (asyncpg driver, trust auth)."""
        spec = self.service(service)
        if not spec.database:
            raise KeyError(f"service {service!r} has no database")
        return f"postgresql+asyncpg://postgres@{self.host}:{self.pg_port}/{spec.database_name}"

    def postgres_dsn(self, database: str = "postgres") -> str:
        """libpq URL (for psql, asyncpg.connect) of any database on the stack's server."""
        return f"postgresql://postgres@{self.host}:{self.pg_port}/{database}"

    def service_url(self, service: str) -> str:
        return f"http://{self.host}:{self.port(service)}"

    @property
    def gateway_url(self) -> str:
        gateway = next(s for s in self.services if s.is_gateway)
        return self.service_url(gateway.name)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")
