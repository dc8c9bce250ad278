"""The SSRF guard: which webhook URLs and addresses may be reached.

    UrlPolicy           the operator's choices: plain http allowed? loopback allowed? (both off by default)
    UnsafeUrlError      a refusal; ``rule`` names the rule broken (a problem's ``rule`` member)
    check_url_syntax()  scheme, host, no user-info — without touching DNS
    address_rule()      the rule an IP address breaks, if any
    check_url()         syntax, then resolve the host and check every address (at registration)
    checked_addresses() resolve and check (at connection time: see transport.py)

OWASP's SSRF prevention cheat sheet: a target is checked by the addresses its name resolves to,
every one of them (a name with one public and one private address is refused), and again when
connecting, because DNS can answer differently a second later (DNS rebinding). Only globally
routable unicast addresses pass: loopback, RFC 1918 / RFC 4193 private, link-local (which holds
the cloud metadata address 169.254.169.254), RFC 6598 shared (CGNAT), multicast, unspecified
and the IANA special-purpose ranges are refused, as are IPv4-mapped / NAT64 / 6to4 forms that
embed one of them. ``allow_loopback`` is for the local stack and tests only (receivers on
127.0.0.1); it opens 127.0.0.0/8 and ::1 and nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "IPAddress",
    "Resolver",
    "UnsafeUrlError",
    "UrlPolicy",
    "Target",
    "system_resolver",
    "check_url_syntax",
    "address_rule",
    "check_url",
    "checked_addresses",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; the system resolver unless a test injects another.
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

_METADATA = ipaddress.ip_address("169.254.169.254")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")


class UnsafeUrlError(ValueError):
    """A URL or address the guard refuses. ``rule`` is a stable snake_case name."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


#: A name that takes longer than this to resolve is refused (unresolvable_host).
RESOLVE_TIMEOUT = 5.0


async def system_resolver(host: str, port: int) -> Sequence[IPAddress]:
    async with asyncio.timeout(RESOLVE_TIMEOUT):
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[IPAddress, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the zone never makes it public.
        seen[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return list(seen)


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool = False
    allow_loopback: bool = False
    resolver: Resolver = field(default=system_resolver, compare=False)


@dataclass(frozen=True)
class Target:
    """A URL that passed the syntax rules: what a connection needs."""

    url: str
    scheme: str
    host: str
    port: int


def check_url_syntax(url: str, policy: UrlPolicy) -> Target:
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeUrlError("malformed_url", f"not a URL: {err}") from err
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeUrlError("https_required", f"the URL scheme must be {' or '.join(allowed)}, not {scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("userinfo_not_allowed", "the URL must not carry a user name or password")
    if not parts.hostname:
        raise UnsafeUrlError("host_required", "the URL has no host")
    if parts.fragment:
        raise UnsafeUrlError("fragment_not_allowed", "the URL must not have a #fragment")
    default_port = 443 if scheme == "https" else 80
    return Target(url=url, scheme=scheme, host=parts.hostname, port=port or default_port)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_rule(address: IPAddress, policy: UrlPolicy) -> str | None:
    """The rule ``address`` breaks (``"loopback_address"``, ...), or None if it may be reached."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return address_rule(embedded, policy)
    if address.is_loopback or (isinstance(address, ipaddress.IPv4Address) and address in _LOOPBACK_V4):
        return None if policy.allow_loopback else "loopback_address"
    # The order names the most specific rule first: 169.254.169.254 is link-local too.
    checks: tuple[tuple[str, bool], ...] = (
        ("metadata_address", address == _METADATA),
        ("unspecified_address", address.is_unspecified),
        ("link_local_address", address.is_link_local),
        ("multicast_address", address.is_multicast),
        ("shared_address", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("private_address", address.is_private),
        ("reserved_address", address.is_reserved or not address.is_global),
    )
    return next((rule for rule, broken in checks if broken), None)


async def checked_addresses(host: str, port: int, policy: UrlPolicy) -> list[IPAddress]:
    """Every address ``host`` resolves to, if each may be reached; else UnsafeUrlError."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: Sequence[IPAddress] = [literal]
    else:
        try:
            addresses = await policy.resolver(host, port)
        # OSError: no such name; UnicodeError: a label IDNA cannot encode; TimeoutError: no answer.
        except (OSError, UnicodeError, TimeoutError) as err:
            raise UnsafeUrlError("unresolvable_host", f"the host {host!r} does not resolve: {err}") from err
        if not addresses:
            raise UnsafeUrlError("unresolvable_host", f"the host {host!r} has no address")
    for address in addresses:
        rule = address_rule(address, policy)
        if rule is not None:
            raise UnsafeUrlError(rule, f"the host {host!r} resolves to {address}, which is refused ({rule})")
    return list(addresses)


async def check_url(url: str, policy: UrlPolicy) -> Target:
    """The registration-time check: syntax, then every address the host resolves to."""
    target = check_url_syntax(url, policy)
    await checked_addresses(target.host, target.port, policy)
    return target
