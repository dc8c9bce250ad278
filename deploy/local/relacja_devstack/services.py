"""The declarative list of processes the local stack runs.

Adding a service to the local stack is one entry in :data:`SERVICES`: the runner derives
its database, migrations, environment variables, log file and readiness check from it.
Keeping this list free of behaviour means the runner, the test suite and the docs all
read the same source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SERVICES", "ServiceSpec", "service_by_name"]


@dataclass(frozen=True)
class ServiceSpec:
    """One uvicorn process of the stack.

    ``env_prefix`` is the prefix of the service's own settings (``RELACJA_CUSTOMERS`` →
    ``RELACJA_CUSTOMERS_DATABASE_URL``, ``..._KAFKA_BOOTSTRAP``, ``..._ENVIRONMENT``).
    A service with ``database=True`` owns the database ``relacja_<name>`` and its
    Alembic migrations live in ``services/<name>/alembic.ini``. The gateway has no
    database; it is started last and is told where every other service listens.
    """

    name: str
    app: str  # ASGI app import path for uvicorn, "module:attribute"
    dev_port: int
    test_port: int
    env_prefix: str
    database: bool = True
    is_gateway: bool = False
    # Services this one asks directly (read-through on a projection miss): each gets
    # ``<env_prefix>_<NAME>_URL`` pointing at that service, e.g. RELACJA_ORDERS_CUSTOMERS_URL.
    reads_from: tuple[str, ...] = ()
    # Settings the local stack (dev and test profiles) gives the service, as
    # ``<env_prefix>_<NAME>=<value>`` unless the environment sets them: operator switches that
    # are off by default and must be on locally (e.g. webhooks to receivers on 127.0.0.1).
    local_env: tuple[tuple[str, str], ...] = ()
    # A service that sends e-mail gets ``<env_prefix>_SMTP_HOST`` / ``_SMTP_PORT`` pointing at
    # the stack's SMTP sink (smtp_sink.py), which keeps every message under ``<state>/mail/``,
    # and ``<env_prefix>_PUBLIC_BASE_URL`` = the stack's gateway, so links in its mail work.
    sends_mail: bool = False

    @property
    def database_name(self) -> str:
        return f"relacja_{self.name}"

    @property
    def alembic_ini(self) -> str:
        """Path of the Alembic config, relative to the repository root."""
        return f"services/{self.name}/alembic.ini"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="customers",
        app="relacja_customers.main:app",
        dev_port=8101,
        test_port=18101,
        env_prefix="RELACJA_CUSTOMERS",
    ),
    ServiceSpec(
        name="segmentation",
        app="relacja_segmentation.main:app",
        dev_port=8102,
        test_port=18102,
        env_prefix="RELACJA_SEGMENTATION",
    ),
    ServiceSpec(
        name="orders",
        app="relacja_orders.main:app",
        dev_port=8103,
        test_port=18103,
        env_prefix="RELACJA_ORDERS",
        reads_from=("customers",),
    ),
    ServiceSpec(
        name="tickets",
        app="relacja_tickets.main:app",
        dev_port=8104,
        test_port=18104,
        env_prefix="RELACJA_TICKETS",
        reads_from=("customers",),
    ),
    ServiceSpec(
        name="churn",
        app="relacja_churn.main:app",
        dev_port=8105,
        test_port=18105,
        env_prefix="RELACJA_CHURN",
    ),
    ServiceSpec(
        name="sharing",
        app="relacja_sharing.main:app",
        dev_port=8106,
        test_port=18106,
        env_prefix="RELACJA_SHARING",
        reads_from=("customers",),
        # Webhook receivers of the local stack and the tests listen on plain http on loopback.
        local_env=(("WEBHOOK_ALLOW_HTTP", "true"), ("WEBHOOK_ALLOW_LOOPBACK", "true")),
    ),
    ServiceSpec(
        name="loyalty",
        app="relacja_loyalty.main:app",
        dev_port=8107,
        test_port=18107,
        env_prefix="RELACJA_LOYALTY",
        reads_from=("customers",),
    ),
    ServiceSpec(
        name="recommendations",
        app="relacja_recommendations.main:app",
        dev_port=8110,
        test_port=18110,
        env_prefix="RELACJA_RECOMMENDATIONS",
        reads_from=("customers",),
    ),
    ServiceSpec(
        name="sales",
        app="relacja_sales.main:app",
        dev_port=8109,
        test_port=18109,
        env_prefix="RELACJA_SALES",
        reads_from=("customers",),
    ),
    ServiceSpec(
        name="engagement",
        app="relacja_engagement.main:app",
        dev_port=8108,
        test_port=18108,
        env_prefix="RELACJA_ENGAGEMENT",
        reads_from=("customers", "loyalty"),
        sends_mail=True,
        # SMS / push provider receivers of the local stack and the tests listen on plain http on loopback.
        local_env=(("WEBHOOK_ALLOW_HTTP", "true"), ("WEBHOOK_ALLOW_LOOPBACK", "true")),
    ),
    ServiceSpec(
        name="gateway",
        app="relacja_gateway.main:app",
        dev_port=8080,
        test_port=18080,
        env_prefix="RELACJA_GATEWAY",
        database=False,
        is_gateway=True,
    ),
)


def service_by_name(name: str, services: tuple[ServiceSpec, ...] = SERVICES) -> ServiceSpec:
    for spec in services:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in services)
    raise KeyError(f"unknown service {name!r} (known: {known})")
