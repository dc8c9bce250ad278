"""The SSRF guard: the scheme and address rules, every resolved address checked, and the
problems name the rule broken."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from relacja_webhooks.guard import IPAddress, UnsafeUrlError, UrlPolicy, address_rule, check_url, check_url_syntax

STRICT = UrlPolicy()


def resolving_to(*addresses: str) -> UrlPolicy:
    async def resolver(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]

    return UrlPolicy(resolver=resolver)


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("127.0.0.1", "loopback_address"),
        ("127.9.9.9", "loopback_address"),
        ("::1", "loopback_address"),
        ("::ffff:127.0.0.1", "loopback_address"),
        ("10.0.0.1", "private_address"),
        ("172.16.5.4", "private_address"),
        ("192.168.1.1", "private_address"),
        ("fd12:3456::1", "private_address"),
        ("::ffff:10.1.1.1", "private_address"),
        ("169.254.169.254", "metadata_address"),
        ("169.254.1.1", "link_local_address"),
        ("fe80::1", "link_local_address"),
        ("100.64.0.1", "shared_address"),
        ("224.0.0.251", "multicast_address"),
        ("ff02::1", "multicast_address"),
        ("0.0.0.0", "unspecified_address"),
        ("::", "unspecified_address"),
        ("240.0.0.1", "private_address"),
        ("192.0.2.10", "private_address"),
        ("64:ff9b::a9fe:a9fe", "metadata_address"),
        ("2002:0a00:0001::", "private_address"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_rules(address: str, rule: str | None) -> None:
    assert address_rule(ipaddress.ip_address(address), STRICT) == rule


def test_the_operator_setting_opens_loopback_and_nothing_else() -> None:
    local = UrlPolicy(allow_loopback=True)
    assert address_rule(ipaddress.ip_address("127.0.0.1"), local) is None
    assert address_rule(ipaddress.ip_address("::1"), local) is None
    assert address_rule(ipaddress.ip_address("10.0.0.1"), local) == "private_address"
    assert address_rule(ipaddress.ip_address("169.254.169.254"), local) == "metadata_address"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://example.com/hook", "https_required"),
        ("ftp://example.com/hook", "https_required"),
        ("file:///etc/passwd", "https_required"),
        ("https://user:pw@example.com/hook", "userinfo_not_allowed"),
        ("https:///hook", "host_required"),
        ("https://example.com/hook#x", "fragment_not_allowed"),
        ("https://example.com:99999/", "malformed_url"),
    ],
)
def test_url_syntax_rules(url: str, rule: str) -> None:
    with pytest.raises(UnsafeUrlError) as err:
        check_url_syntax(url, STRICT)
    assert err.value.rule == rule


def test_plain_http_only_where_the_operator_allows_it() -> None:
    target = check_url_syntax("http://example.com/hook", UrlPolicy(allow_http=True))
    assert (target.scheme, target.host, target.port) == ("http", "example.com", 80)
    assert check_url_syntax("https://example.com:8443/x", STRICT).port == 8443


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://127.0.0.1/hook", "loopback_address"),
        ("https://[::1]/hook", "loopback_address"),
        ("https://10.0.0.8/hook", "private_address"),
        ("https://169.254.169.254/latest/meta-data/", "metadata_address"),
        ("https://localhost/hook", "loopback_address"),
    ],
)
async def test_registration_refuses_literal_and_resolved_addresses(url: str, rule: str) -> None:
    with pytest.raises(UnsafeUrlError) as err:
        await check_url(url, STRICT)
    assert err.value.rule == rule
    assert rule in err.value.detail


async def test_a_name_with_one_public_and_one_private_address_is_refused() -> None:
    with pytest.raises(UnsafeUrlError) as err:
        await check_url("https://partner.example/hook", resolving_to("93.184.216.34", "10.0.0.5"))
    assert err.value.rule == "private_address"
    target = await check_url("https://partner.example/hook", resolving_to("93.184.216.34"))
    assert target.host == "partner.example"


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeUrlError) as err:
        await check_url("https://no-such-host.invalid/hook", STRICT)
    assert err.value.rule == "unresolvable_host"
