"""The profiles and their env-var overrides (no processes started)."""

import pytest

from relacja_devstack import SERVICES, StackConfig
from relacja_devstack.config import REPO_ROOT


def test_profiles_do_not_collide():
    dev, test = StackConfig.for_profile("dev", env={}), StackConfig.for_profile("test", env={})
    dev_ports = {dev.pg_port, dev.broker_port, dev.smtp_port, *dev.service_ports.values()}
    test_ports = {test.pg_port, test.broker_port, test.smtp_port, *test.service_ports.values()}
    assert not dev_ports & test_ports
    assert dev.state_dir != test.state_dir
    assert (dev.fresh, test.fresh) == (False, True)


def test_addresses():
    cfg = StackConfig.for_profile("test", env={})
    assert cfg.database_url("customers") == "postgresql+asyncpg://postgres@127.0.0.1:55433/relacja_customers"
    assert cfg.bootstrap_servers == "127.0.0.1:19092"
    assert cfg.gateway_url == "http://127.0.0.1:18080"
    assert cfg.service_url("segmentation") == "http://127.0.0.1:18102"
    assert cfg.state_dir == REPO_ROOT / ".state" / "test"
    assert cfg.smtp_port == 18025 and cfg.mail_dir == REPO_ROOT / ".state" / "test" / "mail"
    with pytest.raises(KeyError):
        cfg.database_url("gateway")


def test_profile_specific_env_wins_over_generic():
    env = {
        "RELACJA_STACK_PG_PORT": "6000",
        "RELACJA_STACK_TEST_PG_PORT": "6001",
        "RELACJA_STACK_GATEWAY_PORT": "9000",
        "RELACJA_STACK_STATE_DIR": "/tmp/x",
        "RELACJA_STACK_FRESH": "0",
    }
    test, dev = StackConfig.for_profile("test", env=env), StackConfig.for_profile("dev", env=env)
    assert (test.pg_port, dev.pg_port) == (6001, 6000)
    assert test.port("gateway") == dev.port("gateway") == 9000
    assert str(test.state_dir) == "/tmp/x" and test.fresh is False


def test_bad_port_is_reported_by_name():
    with pytest.raises(ValueError, match="BROKER_PORT"):
        StackConfig.for_profile("dev", env={"RELACJA_STACK_BROKER_PORT": "ninety"})


def test_every_service_has_ports_in_both_profiles():
    names = [s.name for s in SERVICES]
    assert len(names) == len(set(names)) and sum(s.is_gateway for s in SERVICES) == 1
    for profile in ("dev", "test"):
        assert set(StackConfig.for_profile(profile, env={}).service_ports) == set(names)


def test_smtp_sink_port_override_and_the_mail_senders_environment():
    """A service that sends mail is pointed at the sink; the others are not told about it."""
    import dataclasses

    from relacja_devstack import ServiceSpec, Stack

    cfg = StackConfig.for_profile("test", env={"RELACJA_STACK_TEST_SMTP_PORT": "20025"})
    assert cfg.smtp_port == 20025
    assert StackConfig.for_profile("dev", env={"RELACJA_STACK_SMTP_PORT": "2525"}).smtp_port == 2525
    with pytest.raises(ValueError, match="SMTP_PORT"):
        StackConfig.for_profile("dev", env={"RELACJA_STACK_SMTP_PORT": "70000"})
    mailer = ServiceSpec(
        name="mailer", app="x:app", dev_port=1, test_port=2, env_prefix="RELACJA_MAILER", sends_mail=True
    )
    quiet = dataclasses.replace(mailer, name="quiet", env_prefix="RELACJA_QUIET", sends_mail=False)
    stack = Stack(
        dataclasses.replace(
            cfg, services=(*cfg.services, mailer, quiet), service_ports={**cfg.service_ports, "mailer": 1, "quiet": 2}
        )
    )
    env = stack._service_env(mailer)
    assert (env["RELACJA_MAILER_SMTP_HOST"], env["RELACJA_MAILER_SMTP_PORT"]) == ("127.0.0.1", "20025")
    assert env["RELACJA_MAILER_PUBLIC_BASE_URL"] == cfg.gateway_url
    assert not any(key.startswith("RELACJA_QUIET_SMTP") for key in stack._service_env(quiet))
