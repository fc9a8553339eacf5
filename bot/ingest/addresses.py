"""Which addresses a fetch may reach. Feeds added from chat (/addsource), and the article pages
of feeds that are not themselves on a private address, must stay on the public internet unless
the config allows private addresses: otherwise the bot could be made to probe its own network
(loopback, RFC 1918, link-local cloud metadata at 169.254.169.254, ...) and publish what it finds.

A check before the request is not enough: a name can resolve to a public address for the check
and to 127.0.0.1 a moment later when the connection is made (DNS rebinding). So the check is made
where the connection is made: ``PublicOnlyResolver`` is the resolver of the aiohttp connector
that public-only fetches use, and aiohttp connects only to the addresses it returns, on every
redirect hop and every new connection. IP literals never reach a resolver (aiohttp connects to
them directly); ``refused_literal`` checks those before each hop, which is exact since there is
no name to rebind.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateAddressError(OSError):
    """A host resolved to an address a public-only fetch may not reach. An OSError, so that
    aiohttp reports it as the connection's failure (ClientConnectorError.os_error)."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} is a private or loopback address ({address})")
        self.host = host
        self.address = address


def _judged(address: IPAddress) -> list[IPAddress]:
    """The addresses that decide whether ``address`` is public: an IPv6 address that carries an
    IPv4 address (mapped, compatible, NAT64) is judged by that IPv4 address, which it reaches
    through the host's own stack or a translator; 6to4 and Teredo by both."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    found: list[IPAddress] = [address]
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def not_public(address: str | IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved, unspecified and other
    special-purpose addresses, and for anything that is not an IP address at all."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return True
    for a in _judged(ip):
        if (not a.is_global or a.is_multicast or a.is_reserved or a.is_loopback
                or a.is_link_local or a.is_private or a.is_unspecified):
            return True
        if isinstance(a, ipaddress.IPv6Address) and a.is_site_local:
            return True
    return False


def literal_ip(host: str | None) -> IPAddress | None:
    """The IP address ``host`` (a URL's hostname, brackets and zone allowed) spells, if any."""
    if not host:
        return None
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def refused_literal(url: str) -> str | None:
    """Why a public-only fetch may not go to ``url`` when its host is an IP literal or
    ``localhost`` (no resolver sees those); None otherwise."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    ip = literal_ip(host)
    if ip is not None and not_public(ip):
        return f"{host} is a private or loopback address ({ip})"
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a private or loopback address (localhost)"
    return None


class PublicOnlyResolver(AbstractResolver):
    """An aiohttp resolver that refuses names resolving to any non-public address.

    ``inner`` does the resolving (aiohttp's default resolver when None); tests give a resolver
    of their own to play DNS tricks. A name with one private address among public ones is
    refused whole: such a name is a trap, not a mirror."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._own_inner = inner is None
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not_public(result["host"]):
                raise PrivateAddressError(host.rstrip("."), str(result["host"]))
        if not results:
            raise OSError(f"{host} has no address")
        return results

    async def close(self) -> None:
        if self._own_inner:
            await self._inner.close()


async def resolve_addresses(host: str, port: int,
                            resolver: AbstractResolver | None = None) -> list[str]:
    """Every address ``host`` resolves to. Raises OSError when it does not resolve."""
    ip = literal_ip(host)
    if ip is not None:
        return [str(ip)]
    own = resolver is None
    resolver = resolver if resolver is not None else DefaultResolver()
    try:
        results = await resolver.resolve(host, port, socket.AF_UNSPEC)
    finally:
        if own:
            await resolver.close()
    return [str(r["host"]) for r in results]


async def private_address(url: str, resolver: AbstractResolver | None = None) -> str | None:
    """The first non-public address the URL's host resolves to, or None when all are public.
    Raises OSError when the host does not resolve. A check before the request: exact for IP
    literals, advisory for names (see the module's doc); fetches check at connect time."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if refused_literal(url):
        return "localhost" if literal_ip(host) is None else str(literal_ip(host))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in await resolve_addresses(host, port, resolver):
        if not_public(address):
            return address
    return None


async def is_private_host(url: str, resolver: AbstractResolver | None = None) -> bool:
    """Is ``url``'s host on a private address (so that pages it links to may be too)? A host
    that does not resolve counts as public: the caller then stays on the safe side."""
    try:
        return await private_address(url, resolver) is not None
    except (OSError, ValueError):
        return False
