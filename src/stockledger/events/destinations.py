"""Destination rules: https and public addresses only, checked on the resolved address at every send.

The name is resolved here, every address it resolves to is checked, and the request is then sent to
the checked address itself (with the original Host header and TLS server name), so a name that
resolves to a public address for the check and to a private one for the connection (DNS
rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# NAT64 well-known prefix: its addresses embed an IPv4 address that must be checked as well.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


NOT_PUBLIC = "the destination is not a public address"
log = logging.getLogger("stockledger.webhooks")


class DestinationBlocked(Exception):
    """The destination is not allowed (scheme, or an address that is not public)."""


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the operating system's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: IPAddress) -> bool:
    """False for loopback, private, link-local (incl. 169.254.169.254), multicast, reserved,
    unspecified, shared, IPv6 ULA, and IPv4-mapped/NAT64 forms of any of these."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is None and address in _NAT64:
            mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if mapped is not None:
            return is_public(mapped)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_scheme(url: str, allow_private: bool) -> str | None:
    """Why `url` is not an acceptable destination, or None. Absolute http(s) URL with a host;
    plain http only when private destinations are allowed."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "must be an absolute http(s) URL"
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        return "must be an absolute http(s) URL"
    if parsed.scheme != "https" and not allow_private:
        return "must be an https URL"
    return None


@dataclass(frozen=True)
class Target:
    """Where to connect: the URL with the checked address as host, and what keeps TLS and virtual
    hosting working (the original Host header and TLS server name)."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


async def pin(url: str, allow_private: bool, resolve: Resolver = system_resolve) -> Target:
    """Check `url` and resolve it (with `resolve`, the deliverer's) to a connectable target; raises
    DestinationBlocked."""
    problem = check_scheme(url, allow_private)
    if problem is not None:
        raise DestinationBlocked(f"destination {problem}")
    parsed = httpx.URL(url)
    if allow_private:
        return Target(parsed)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await resolve(host, port)
        except OSError:
            raise DestinationBlocked(f"cannot resolve {host}") from None
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise DestinationBlocked(f"cannot resolve {host}")
    for address in addresses:
        if not is_public(address):
            # Only that it is not public: the address a name resolves to describes the server's
            # network (an attacker probing names learns nothing). The operator's log has it.
            log.info("webhook destination refused", extra={"host": host, "address": str(address)})
            raise DestinationBlocked(NOT_PUBLIC)
    if literal is not None:
        return Target(parsed)
    chosen = addresses[0]
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    return Target(
        parsed.copy_with(host=str(chosen)),
        headers={"Host": host_header},
        extensions={"sni_hostname": host},
    )
