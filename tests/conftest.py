"""Shared fixtures: a real feed server on 127.0.0.1, real SQLite files in tmp folders, and a
real PostgreSQL server (started once per session, a fresh database per test)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import FetchConfig, SchedulerConfig
from bot.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# ../shared beside the checkout (a worktree elsewhere names it with PRESSBOT_SHARED)
SHARED = Path(os.environ.get("PRESSBOT_SHARED") or ROOT.parent / "shared")
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


class Postgres:
    """The session's PostgreSQL server, started when a test first asks for a database (tests
    that never do cost nothing); ``database()`` makes a fresh, empty one."""

    NO_SERVER = ("no PostgreSQL binaries (initdb, pg_ctl) on this machine: apt-get install"
                 " postgresql, or set PRESSBOT_TEST_POSTGRES to a server URL")

    def __init__(self) -> None:
        self.server = None
        self.failed: str | None = None
        self._names = itertools.count()
        self._run = uuid.uuid4().hex[:6]
        self._migrated: str | None = None

    def _server(self):
        from pgserver import PostgresServer

        if "postgresql" not in BACKENDS:
            pytest.skip("PRESSBOT_TEST_BACKENDS leaves PostgreSQL out")
        if self.server is None and self.failed is None:
            self.server = PostgresServer.start()
            if self.server is None:
                self.failed = self.NO_SERVER
        if self.server is None:
            pytest.skip(self.failed or self.NO_SERVER)
        return self.server

    async def _admin(self, statement: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._server().url("postgres"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def database(self, *, migrated: bool = False) -> str:
        """The URL of a new database: empty, or (``migrated``) a copy of a template with every
        migration applied, which is made once per session (CREATE DATABASE ... TEMPLATE takes
        milliseconds; running the migrations for every test would take far longer)."""
        name = f"pressbot_{self._run}_{os.getpid()}_{next(self._names)}"
        if migrated:
            template = await self._template()
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            await self._admin(f'CREATE DATABASE "{name}"')
        return self._server().url(name)

    async def _template(self) -> str:
        name = f"pressbot_{self._run}_{os.getpid()}_template"
        if self._migrated != name:
            await self._admin(f'CREATE DATABASE "{name}"')
            opened = await Store.open(self._server().url(name))
            await opened.close()  # a template must have no connection when it is copied
            self._migrated = name
        return name

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.server is not None and self.server.folder is None and self._migrated:
            # a server of PRESSBOT_TEST_POSTGRES outlives the session: drop the template
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self._migrated}"'))
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture
async def pg_url(postgres: Postgres) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on the session's server (skips when PostgreSQL is
    not installed)."""
    url = await postgres.database()
    yield url
    await postgres.drop(url)


# Test modules whose `store` runs on both backends: every test taking `store` runs once on an
# SQLite file and once on a PostgreSQL database (ids [sqlite] and [postgresql]). The suite has a
# wall-time budget, so by default PostgreSQL gets the modules that exercise the storage itself
# (BOTH_STORES; test_postgres.py also checks the schemas, the archive's queries, the copy and
# several processes); PRESSBOT_TEST_PG=full adds the modules that run the same SQL through the
# pipeline, the poller and Telegram (ALSO_ON_FULL). PRESSBOT_TEST_BACKENDS=sqlite runs SQLite
# alone.
BOTH_STORES = {"test_storage", "test_delivery", "test_postgres"}
ALSO_ON_FULL = {
    "test_news", "test_source_updates", "test_poller", "test_scheduler", "test_sources_admin",
    "test_dedup", "test_digest_search", "test_sender", "test_sender_failures", "test_admin",
}
BACKENDS = tuple(b for b in os.environ.get("PRESSBOT_TEST_BACKENDS", "sqlite,postgresql")
                 .replace(" ", "").split(",") if b in ("sqlite", "postgresql")) or ("sqlite",)


def on_both(module: str) -> bool:
    return module in BOTH_STORES or (os.environ.get("PRESSBOT_TEST_PG") == "full"
                                     and module in ALSO_ON_FULL)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames and on_both(metafunc.module.__name__):
        metafunc.parametrize("store", BACKENDS, indirect=True)


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path,
                postgres: Postgres) -> AsyncIterator[Store]:
    """A real SQLite file in the test's folder, migrations applied; or, for the modules of
    BOTH_STORES, also a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = await postgres.database(migrated=True)
        try:
            opened = await Store.open(url)
            yield opened
            await opened.close()
        finally:
            await postgres.drop(url)
        return
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
