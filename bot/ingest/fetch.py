"""HTTP fetching with aiohttp: timeouts, a body cap, gzip, checked redirects, conditional GET,
addresses checked where connections are made, per-host slots, proxies and Retry-After.

Redirects are followed by hand so that each hop is checked (http/https only, at most
``max_redirects``, no loops). The body is read in chunks and abandoned past the cap, after
decompression, so neither a huge file nor a gzip bomb gets into memory.

Public-only fetches (``public_only=True``) go through a connector whose resolver refuses private,
loopback, link-local, multicast and reserved addresses (bot/ingest/addresses.py): the address
checked is the address connected to, on every hop, so DNS rebinding gets nowhere. Through a
proxy the connection is the proxy's, and the check cannot see it: the target host is then
resolved and checked before each hop, which narrows but does not close the rebinding window (the
proxy resolves the name again). Operators who need the exact check should not proxy feeds that
chat users add, or run a proxy that refuses private targets itself.

Waiting for a per-host slot (``per_host`` requests at once per host) or a global one
(``concurrency``) does not count into ``timeout``: the clock starts when the request does, and
the budget is spent across the redirect hops.

Proxies: ``proxy`` (``http://``, ``socks4://``, ``socks5://``, ``socks5h://``) for every request;
without one, HTTPS_PROXY / HTTP_PROXY / ALL_PROXY from the environment (NO_PROXY lists the hosts
that go direct, also for a configured proxy). SOCKS goes through aiohttp-socks; ``socks5://``
lets the proxy resolve names, as ``socks5h://`` does (so that a host that cannot resolve the
internet's names can still fetch through it).
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
import aiohttp_socks
from aiohttp.abc import AbstractResolver

from bot.config import FetchConfig, check_http_url
from bot.ingest.addresses import (
    PrivateAddressError,
    PublicOnlyResolver,
    not_public,
    refused_literal,
    resolve_addresses,
)

log = logging.getLogger(__name__)
_REDIRECTS = {301, 302, 303, 307, 308}
ACCEPT_FEED = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# A Retry-After beyond this is a server's mistake (or a trick to silence a source): bounded.
MAX_RETRY_AFTER = 24 * 3600
PROXY_SCHEMES = ("http", "socks4", "socks5", "socks5h")


class FetchError(Exception):
    """A fetch that failed; the message is one line naming the cause."""


class RetryLaterError(FetchError):
    """HTTP 429 or 503: the server asks us to come back later. ``retry_after`` is its
    Retry-After in seconds (0..MAX_RETRY_AFTER), or None when it named no usable delay."""

    def __init__(self, message: str, status: int, retry_after: int | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int  # 200 or 304
    body: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def parse_retry_after(value: str | None, now: datetime | None = None) -> int | None:
    """Seconds a Retry-After header asks for: delay-seconds or an HTTP-date, bounded to
    0..MAX_RETRY_AFTER; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return MAX_RETRY_AFTER if len(value) > 9 else min(int(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value[:100])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    except OverflowError:
        return None
    return int(min(max(seconds, 0), MAX_RETRY_AFTER))


def check_proxy_url(url: str) -> str | None:
    """Why ``url`` is not a usable proxy URL, or None when it is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in PROXY_SCHEMES:
        return (f"proxy scheme must be one of {', '.join(s + '://' for s in PROXY_SCHEMES)},"
                f" got {parts.scheme or 'none'}")
    if not parts.hostname:
        return "proxy URL has no host"
    if port is None and parts.scheme.lower() != "http":
        return "a SOCKS proxy URL needs a port"
    return None


def redact(url: str) -> str:
    """A proxy URL fit for a log line: its password replaced."""
    try:
        parts = urlsplit(url.strip())
        if parts.password is None:
            return url.strip()[:100]
        netloc = parts.netloc.rsplit("@", 1)[1]
        return parts._replace(netloc=f"{parts.username}:***@{netloc}").geturl()[:100]
    except ValueError:
        return "(unreadable URL)"


def environment_proxies() -> dict[str, str]:
    """The proxy settings of the environment (lower or upper case): http, https, all, no."""
    return {k: v for k, v in urllib.request.getproxies_environment().items()
            if k in ("http", "https", "all", "no") and v}


class Fetcher:
    """One set of aiohttp sessions for the process; use as an async context manager.

    ``proxy``: a proxy URL for every request (see the module's doc); None takes the
    environment's. ``resolver``: the resolver names are looked up with (aiohttp's default when
    None); tests give their own to map names and play DNS tricks. Raises ValueError with a
    one-line reason for an unusable proxy URL."""

    def __init__(self, config: FetchConfig, *, proxy: str | None = None,
                 resolver: AbstractResolver | None = None, trust_env: bool = True) -> None:
        self.config = config
        if proxy is None:  # [fetch] proxy
            proxy = getattr(config, "proxy", None)
        env = environment_proxies() if trust_env else {}
        self._proxies: dict[str, str] = {}
        if proxy:
            why = check_proxy_url(proxy)
            if why:
                raise ValueError(f"proxy {redact(proxy)!r}: {why}")
            self._proxies = {"all": proxy.strip()}
        else:
            for key, value in env.items():
                if key == "no":
                    continue
                why = check_proxy_url(value)
                if why:
                    log.warning("%s_proxy from the environment ignored: %s", key, why)
                else:
                    self._proxies[key] = value
        if self._proxies and env.get("no"):
            self._proxies["no"] = env["no"]
        self._resolver = resolver
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._entered = False
        self._all = asyncio.Semaphore(max(1, config.concurrency))
        self._hosts: dict[str, list] = {}  # host -> [semaphore, users]

    async def __aenter__(self) -> Fetcher:
        self._entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._entered = False
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()
        if sessions:
            await asyncio.sleep(0)  # let closed transports release their sockets

    def proxy_for(self, url: str) -> str | None:
        """The proxy ``url`` goes through, or None for a direct connection."""
        if not self._proxies:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        no = self._proxies.get("no")
        if no:
            netloc = f"{host}:{parts.port}" if parts.port else host
            if urllib.request.proxy_bypass_environment(netloc, {"no": no}):
                return None
        scheme = parts.scheme.lower()
        return self._proxies.get("all") if scheme not in self._proxies else self._proxies[scheme]

    def _session(self, public_only: bool, proxy: str | None) -> aiohttp.ClientSession:
        """Direct fetches: a guarded session (public_only) or an open one; HTTP proxies go
        through the open session (it connects to the proxy, which may well be private);
        each SOCKS proxy has a session of its own."""
        socks = proxy is not None and not proxy.lower().startswith("http://")
        key = f"socks {proxy}" if socks else ("guarded" if public_only and not proxy else "open")
        session = self._sessions.get(key)
        if session is not None:
            return session
        common = {"limit": 0, "limit_per_host": 0, "ttl_dns_cache": 300}
        if socks:
            assert proxy is not None
            url = proxy.strip()
            if url.lower().startswith("socks5h://"):
                url = "socks5://" + url[len("socks5h://"):]
            connector: aiohttp.TCPConnector = aiohttp_socks.ProxyConnector.from_url(
                url, rdns=True, **common)
        elif key == "guarded":
            connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(self._resolver),
                                             **common)
        else:
            connector = aiohttp.TCPConnector(resolver=self._resolver, **common)
        # No total: the per-hop budget is an asyncio.timeout that starts after the slot wait.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.connect_timeout)
        session = aiohttp.ClientSession(
            connector=connector, connector_owner=True, timeout=timeout, auto_decompress=True,
            trust_env=False,
            headers={"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate"})
        self._sessions[key] = session
        return session

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """A per-host slot, then a global one; the wait is not part of any timeout."""
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = [asyncio.Semaphore(max(1, self.config.per_host)), 0]
        entry[1] += 1
        try:
            async with entry[0], self._all:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._hosts.pop(host, None)

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = ACCEPT_FEED, public_only: bool = False) -> FetchResult:
        """GET ``url``. ``public_only``: every hop may connect to public addresses only (for
        feeds added from chat, and for article pages of feeds on public addresses). Raises
        FetchError (RetryLaterError for 429/503) with a one-line message, and nothing else."""
        if not self._entered:
            raise RuntimeError("Fetcher used outside 'async with'")
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = {url}
        current = url
        budget = float(self.config.timeout)
        try:
            for _hop in range(self.config.max_redirects + 1):
                why = check_http_url(current)
                if why:
                    raise FetchError(f"refused {current[:100]}: {why}")
                if public_only and (why := refused_literal(current)):
                    raise FetchError(f"refused {current[:100]}: {why}")
                host = (urlsplit(current).hostname or "").lower()
                async with self._slot(host):
                    started = time.monotonic()
                    try:
                        async with asyncio.timeout(max(budget, 0.001)):
                            outcome = await self._hop(current, headers, public_only)
                    finally:
                        budget -= time.monotonic() - started
                if isinstance(outcome, FetchResult):
                    return outcome
                nxt = outcome
                if nxt in seen:
                    raise FetchError(f"redirect loop at {nxt[:100]}")
                seen.add(nxt)
                current = nxt
            raise FetchError(f"too many redirects (more than {self.config.max_redirects})")
        except aiohttp.ConnectionTimeoutError:
            raise FetchError(f"cannot connect to {urlsplit(current).hostname}: timed out after "
                             f"{self.config.connect_timeout:g}s") from None
        except TimeoutError:
            raise FetchError(f"timed out after {self.config.timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PrivateAddressError):
                raise FetchError(f"refused {current[:100]}: {exc.os_error}") from None
            if isinstance(exc, aiohttp.ClientProxyConnectionError):
                raise FetchError(f"cannot connect to the proxy {exc.host}:{exc.port}: "
                                 f"{_one_line(exc.os_error)}") from None
            if isinstance(exc, aiohttp.ClientConnectorDNSError):
                raise FetchError(f"cannot resolve {exc.host}: {_one_line(exc.os_error)}"
                                 ) from None
            raise FetchError(f"cannot connect to {exc.host}:{exc.port}: "
                             f"{_one_line(exc.os_error)}") from None
        except aiohttp.ClientHttpProxyError as exc:
            raise FetchError(f"the proxy refused: HTTP {exc.status} {exc.message}") from None
        except (aiohttp_socks.ProxyConnectionError, aiohttp_socks.ProxyTimeoutError,
                aiohttp_socks.ProxyError) as exc:
            raise FetchError(f"SOCKS proxy: {_one_line(exc)}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body: {_one_line(exc)}") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"HTTP client error: {_one_line(exc)}") from None
        except (ValueError, LookupError) as exc:  # yarl/idna on hostile URLs and headers
            raise FetchError(f"refused {current[:100]}: {_one_line(exc)}") from None
        except OSError as exc:
            raise FetchError(f"network error: {_one_line(exc)}") from None

    async def _hop(self, url: str, headers: dict[str, str],
                   public_only: bool) -> FetchResult | str:
        """One request: the result, or the next URL of a redirect."""
        proxy = self.proxy_for(url)
        if public_only and proxy:
            await self._check_target(url)
        session = self._session(public_only, proxy)
        http_proxy = proxy if proxy and proxy.lower().startswith("http://") else None
        async with session.get(url, headers=headers, allow_redirects=False,
                               proxy=http_proxy) as resp:
            if resp.status in _REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise FetchError(f"HTTP {resp.status} redirect without Location")
                return urljoin(url, location.strip())
            return await self._finish(resp, url)

    async def _check_target(self, url: str) -> None:
        """Through a proxy: resolve the target here and refuse it when any address is not
        public (the proxy's own lookup may still differ; see the module's doc)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await resolve_addresses(host, port, self._resolver)
        except OSError as exc:
            raise FetchError(f"cannot resolve {host}: {_one_line(exc)}") from None
        for address in addresses:
            if not_public(address):
                raise FetchError(f"refused {url[:100]}: {host} is a private or loopback"
                                 f" address ({address})")

    async def _finish(self, resp: aiohttp.ClientResponse, url: str) -> FetchResult:
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        if resp.status == 304:
            return FetchResult(url, 304, b"", None, None, etag, last_modified)
        reason = _one_line(resp.reason or "")[:100]
        if resp.status in (429, 503):
            delay = parse_retry_after(resp.headers.get("Retry-After"))
            later = f"; retry after {delay}s" if delay is not None else ""
            raise RetryLaterError(f"HTTP {resp.status} {reason}".strip() + later,
                                  resp.status, delay)
        if resp.status >= 400:
            raise FetchError(f"HTTP {resp.status} {reason}".strip())
        if resp.status != 200:
            raise FetchError(f"unexpected HTTP {resp.status} {reason}".strip())
        cap = self.config.max_body_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise FetchError(f"body of {resp.content_length} bytes is over the {cap}-byte cap")
        chunks = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"body is over the {cap}-byte cap")
            chunks.append(chunk)
        try:
            charset = resp.charset
        except (LookupError, ValueError):
            charset = None
        try:
            content_type = resp.content_type
        except (LookupError, ValueError):
            content_type = None
        return FetchResult(url, 200, b"".join(chunks), content_type, charset, etag,
                           last_modified)


def _one_line(exc: object) -> str:
    """An exception's (or a string's) first line, or its type's name when it has no text."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0][:300]

