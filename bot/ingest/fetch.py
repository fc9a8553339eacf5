"""HTTP fetching with aiohttp: timeouts, a body cap, gzip, checked redirects, conditional GET.

Redirects are followed by hand so that each hop is checked (http/https only, at most
``max_redirects``, no loops). The body is read in chunks and abandoned past the cap, after
decompression, so neither a huge file nor a gzip bomb gets into memory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.config import FetchConfig, check_http_url
from bot.ingest.addresses import private_address

_REDIRECTS = {301, 302, 303, 307, 308}
ACCEPT_FEED = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class FetchError(Exception):
    """A fetch that failed; the message is one line naming the cause."""


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


class Fetcher:
    """One aiohttp session for the process; use as an async context manager."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(limit=self.config.concurrency,
                                         limit_per_host=self.config.per_host,
                                         ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self.config.timeout,
                                        sock_connect=self.config.connect_timeout)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=True,
            headers={"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = ACCEPT_FEED, public_only: bool = False) -> FetchResult:
        """GET ``url``. ``public_only``: every hop must resolve to public addresses only (for
        feeds added from chat, so that a redirect cannot reach the host's own network)."""
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = {url}
        current = url
        try:
            async with asyncio.timeout(self.config.timeout):
                for _hop in range(self.config.max_redirects + 1):
                    why = check_http_url(current)
                    if why:
                        raise FetchError(f"refused {current[:100]}: {why}")
                    if public_only:
                        await self._refuse_private(current)
                    async with self._session.get(current, headers=headers,
                                                 allow_redirects=False) as resp:
                        if resp.status in _REDIRECTS:
                            location = resp.headers.get("Location")
                            if not location:
                                raise FetchError(f"HTTP {resp.status} redirect without Location")
                            nxt = urljoin(current, location)
                            if nxt in seen:
                                raise FetchError(f"redirect loop at {nxt[:100]}")
                            seen.add(nxt)
                            current = nxt
                            continue
                        return await self._finish(resp, current)
                raise FetchError(f"too many redirects (more than {self.config.max_redirects})")
        except TimeoutError:
            raise FetchError(f"timed out after {self.config.timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(f"cannot connect to {exc.host}:{exc.port}: "
                             f"{exc.os_error.strerror or exc.os_error}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body: {str(exc).splitlines()[0]}") from None
        except aiohttp.ClientError as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FetchError(f"HTTP client error: {text}") from None

    @staticmethod
    async def _refuse_private(url: str) -> None:
        try:
            private = await private_address(url)
        except OSError as exc:
            raise FetchError(f"cannot resolve {urlsplit(url).hostname}: {exc}") from None
        if private:
            raise FetchError(f"refused {url[:100]}: {urlsplit(url).hostname} is a private or"
                             f" loopback address ({private})")

    async def _finish(self, resp: aiohttp.ClientResponse, url: str) -> FetchResult:
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        if resp.status == 304:
            return FetchResult(url, 304, b"", None, None, etag, last_modified)
        if resp.status >= 400:
            raise FetchError(f"HTTP {resp.status} {resp.reason or ''}".strip())
        if resp.status != 200:
            raise FetchError(f"unexpected HTTP {resp.status} {resp.reason or ''}".strip())
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
        charset = None
        try:
            charset = resp.charset
        except (LookupError, ValueError):
            charset = None
        return FetchResult(url, 200, b"".join(chunks), resp.content_type, charset, etag,
                           last_modified)
