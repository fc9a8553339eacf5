"""Shared fixtures: a real feed server on 127.0.0.1 and real SQLite files in tmp folders."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import FetchConfig, SchedulerConfig
from bot.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    etag: str | None = None
    handler: Handler | None = None


class FeedServer:
    """An aiohttp server on loopback whose routes a test sets; it records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[web.Request] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200,
            content_type: str | None = "application/rss+xml; charset=utf-8",
            headers: dict[str, str] | None = None, gzip: bool = False,
            etag: str | None = None) -> None:
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, hdrs, gzip, etag)

    def add_handler(self, path: str, handler: Handler) -> None:
        self.routes[path] = Route(handler=handler)

    def hits(self, path: str) -> list[web.Request]:
        return [r for r in self.requests if r.path_qs == path or r.path == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        route = self.routes.get(request.path_qs) or self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.handler is not None:
            return await route.handler(request)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
            if request.headers.get("If-None-Match") == route.etag:
                return web.Response(status=304, headers={"ETag": route.etag})
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(status=route.status, body=body, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real SQLite file in the test's folder, migrations applied."""
    opened = await Store.open(tmp_path / "pressbot.db")
    yield opened
    await opened.close()


@pytest.fixture
def fetch_config() -> FetchConfig:
    return FetchConfig(timeout=5, connect_timeout=2, max_body_bytes=1_000_000)


@pytest.fixture
def scheduler_config() -> SchedulerConfig:
    return SchedulerConfig(jitter=0)


def rss(items: list[dict[str, str]], *, title: str = "Тестовая лента",
        encoding: str | None = "utf-8") -> str:
    """A small RSS 2.0 document from item dicts (keys: title, link, guid, pubDate, description)."""
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    parts = []
    for it in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in it.items())
        parts.append(f"<item>{fields}</item>")
    return (f'{decl}<rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://example.ru/</link><description>d</description>"
            f"{''.join(parts)}</channel></rss>")


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def fake_bot_api():
    from fakebot import FakeBotAPI

    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


TEST_TOKEN = "123456789:AAF-test-token-for-the-fake-api-0123456"


@pytest.fixture
async def tg_bot(fake_bot_api):
    from bot.telegram.transport import make_bot

    bot = make_bot(TEST_TOKEN, fake_bot_api.base)
    yield bot
    await bot.session.close()


@pytest.fixture
def transport(tg_bot):
    """The sender's way to Telegram: aiogram's real client against the fake Bot API."""
    from bot.delivery.pacer import Pacer
    from bot.telegram.transport import TelegramTransport

    return TelegramTransport(tg_bot, Pacer())


async def fetch_rows(store: Store, sql: str, params: tuple = ()) -> list:
    """What a test reads straight from the database (assertions on stored state)."""
    async with store.db.read() as tx:
        return await tx.fetchall(sql, params)


async def queue(store: Store, chat_id: int, texts: list[str], *, kind: str = "private",
                thread_id: int | None = None, preview: bool = True) -> list[int]:
    """A chat with notices queued for it in the outbox."""
    from bot.storage.outbox import enqueue

    await store.chats.upsert(chat_id, kind, thread_id=thread_id)
    ids = []
    async with store.db.transaction() as tx:
        for text in texts:
            ids.append(await enqueue(tx, chat_id, text, kind="notice", thread_id=thread_id,
                                     preview=preview))
    return ids


async def fetch_one(store: Store, sql: str, params: tuple = ()):
    """The first row of a query, or None."""
    found = await fetch_rows(store, sql, params)
    return found[0] if found else None


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch):
    """Tests talk to 127.0.0.1 directly: a proxy set on the machine must not catch them (the
    Fetcher honours HTTP(S)_PROXY / ALL_PROXY). Proxy tests set their own."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
async def loopback_proxy():
    """An HTTP/CONNECT/SOCKS4/SOCKS5 proxy on 127.0.0.1 that records what passes through."""
    from nettools import LoopbackProxy

    proxy = LoopbackProxy()
    await proxy.start()
    yield proxy
    await proxy.stop()
