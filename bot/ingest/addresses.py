"""Is a URL's host on the public internet? Feeds added from chat (/addsource) must be, unless
the config allows private addresses: otherwise the bot could be made to probe its own network
(loopback, RFC 1918, link-local cloud metadata at 169.254.169.254, ...)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


async def private_address(url: str) -> str | None:
    """The first non-public address the URL's host resolves to, or None when all are public.
    Raises OSError when the host does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return str(address)
    return None
