"""Scale out: articles per second stored by 1, 2 and 4 ingest processes on one PostgreSQL
database, beside one process on SQLite, in the same run; and messages per second delivered.

Ingest: the real ria.ru corpus (912 distinct articles, ../shared/eval/ria_news_topics) served as
--feeds RSS feeds (full text in the items) by an HTTP server on 127.0.0.1. Each run starts from
an empty database and starts its processes together; each process is what `pressbot run --role
ingest` runs for the sources (bot/app.py's LeasedPoller on PostgreSQL, the plain Poller on
SQLite: fetch, parse, the whole pipeline without NER, placement in one transaction each), and
polls every source once; the sources' leases divide the feeds between the processes. The time
runs from the start signal to the last process done (start-up, model loading, excluded); the
articles are counted in the database, so a feed polled twice would show as no more articles in
more time.

Delivery: one story queued for --chats subscribers, sent by the real Sender through aiogram's
client to the fake Bot API (tests/fakebot.py, which enforces about 30 messages a second
overall), on SQLite and on PostgreSQL. Target: >= 29 messages a second. On a shared database
only the leader sends (bot/app.py), so the figure is the same whatever the number of deliver
processes.

    python bench/scale_out.py [--feeds 16] [--chats 600] [--articles 912]

The machine has 2 cores shared with others: more processes than cores cannot scale CPU-bound
work; the table gives the ratio to one process so that the noise of the machine cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench._data import load_ria, print_table, serve_loopback  # noqa: E402

# ------------------------------------------------------------------ the worker process


async def worker(location: str, feeds: list[str], go: str) -> None:
    """One ingest process: sync the sources, wait for the start signal (a file), poll each
    source once, print how many it stored and its own time."""
    from bot.app import LeasedPoller
    from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics
    from bot.ingest.fetch import Fetcher
    from bot.poller import Poller
    from bot.storage.leases import STARTUP, Leases
    from bot.storage.store import Store
    from bot.understand.analyzer import Understanding

    understanding = Understanding(default_topics(), ner=False)
    understanding("Разогрев", "Томская область запустила новый завод в Томске.")  # models loaded
    fetch = FetchConfig(allow_private_addresses=True, fulltext_min_chars=0, timeout=60)
    store = await Store.open(location)
    leases = await Leases.open(store.db) if location.startswith("postgresql") else None
    configs = tuple(SourceConfig(f"feed{i}", "feed", url=url) for i, url in enumerate(feeds))
    if leases is not None:
        async with leases.hold(STARTUP):
            states = await store.sources.sync(configs)
    else:
        states = await store.sources.sync(configs)
    print("ready", flush=True)
    while not os.path.exists(go):
        await asyncio.sleep(0.01)
    began = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    async with Fetcher(fetch) as fetcher:
        kwargs = dict(understanding=understanding)
        poller = (LeasedPoller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                               leases=leases, **kwargs) if leases is not None
                  else Poller(store, fetcher, fetch, SchedulerConfig(jitter=0), **kwargs))
        results = await asyncio.gather(*(poller.poll(s.id) for s in states))
    took = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"new": sum(r.new for r in results), "seconds": took,
                      "cpu": usage.ru_utime + usage.ru_stime - cpu_before,
                      "failed": [r.error for r in results if r.status == "failed"]}),
          flush=True)
    if leases is not None:
        await leases.close()
    await store.close()


# ------------------------------------------------------------------ the bench


def feed_xml(articles: list, n: int) -> bytes:
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>{escape(a.title)}</title><link>https://ria.example/{n}/{a.id}</link>"
        f"<guid>{n}-{a.id}</guid><pubDate>{now}</pubDate>"
        f"<description>{escape(a.content)}</description></item>" for a in articles)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>feed {n}</title><link>https://ria.example/</link><description>d"
            f"</description>{items}</channel></rss>").encode()


async def serve_feeds(bodies: list[bytes]):
    from aiohttp import web

    app = web.Application()
    for i, body in enumerate(bodies):
        app.router.add_get(f"/feed{i}.xml", lambda _r, b=body: web.Response(
            body=b, content_type="application/rss+xml"))
    runner, port = await serve_loopback(app)
    return runner, [f"http://127.0.0.1:{port}/feed{i}.xml" for i in range(len(bodies))]


async def count_articles(location: str) -> int:
    from bot.storage.store import Store

    async with await Store.open(location) as store:
        return await store.articles.count()


async def ingest_run(location: str, processes: int, feeds: list[str]
                     ) -> tuple[int, float, float]:
    go = tempfile.mktemp(prefix="pressbot-go-")
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--worker", location, go, *feeds,
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
        for _ in range(processes)]
    for p in procs:  # every process has loaded its models and opened its database
        assert p.stdout is not None
        line = await p.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"bench: a worker failed to start: {line!r}")
    began = time.perf_counter()
    Path(go).touch()
    outs = [json.loads((await p.stdout.readline()) or b"{}") for p in procs]  # type: ignore
    took = time.perf_counter() - began
    for p in procs:
        await p.wait()
    os.unlink(go)
    failed = [f for o in outs for f in o.get("failed", [])]
    if failed:
        print(f"bench: {len(failed)} polls failed: {failed[:3]}", file=sys.stderr)
    return await count_articles(location), took, sum(o.get("cpu", 0.0) for o in outs)


async def deliver_run(location: str, chats: int) -> float:
    from fakebot import FakeBotAPI

    from bot.delivery.pacer import Pacer
    from bot.delivery.sender import Sender
    from bot.storage.db import utcnow
    from bot.storage.outbox import enqueue
    from bot.storage.store import Store
    from bot.telegram.transport import TelegramTransport, make_bot

    fake = FakeBotAPI()
    await fake.start()
    bot = make_bot("123456789:AAF-bench-token-for-the-fake-api-0123456", fake.base)
    try:
        async with await Store.open(location) as store:
            now = utcnow()
            async with store.db.transaction() as tx:
                await tx.executemany(
                    "INSERT INTO chats (chat_id, status, created_at, updated_at)"
                    " VALUES (?, 'active', ?, ?)", [(10_000 + n, now, now) for n in range(chats)])
                for n in range(chats):
                    await enqueue(tx, 10_000 + n, f"Сюжет для {n}", kind="notice")
            pacer = Pacer(30.0)
            sender = Sender(store, TelegramTransport(bot, pacer))
            began = time.perf_counter()
            await sender.drain(timeout=600)
            took = time.perf_counter() - began
            await pacer.close()
        if len(fake.sent) != chats:
            raise SystemExit(f"bench: {len(fake.sent)} of {chats} messages sent")
        return chats / took
    finally:
        await bot.session.close()
        await fake.stop()


async def new_database(server, n: int) -> str:
    import asyncpg

    conn = await asyncpg.connect(server.url("postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "bench{n}"')
    finally:
        await conn.close()
    return server.url(f"bench{n}")


async def bench(feeds: int, chats: int, limit: int) -> None:
    from pgserver import PostgresServer

    articles = load_ria()
    distinct = list({a.content: a for a in articles}.values())[:limit]
    per_feed = [distinct[i::feeds] for i in range(feeds)]
    runner, urls = await serve_feeds([feed_xml(part, i) for i, part in enumerate(per_feed)])
    server = PostgresServer.start()
    if server is None:
        raise SystemExit("bench: no PostgreSQL binaries (apt-get install postgresql)")
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            load = os.getloadavg()[0]
            stored, took, cpu = await ingest_run(str(Path(tmp) / "lite.db"), 1, urls)
            rows.append(("SQLite", 1, stored, f"{took:.1f}", f"{cpu:.1f}",
                         f"{stored / took:.1f}", "1.00"))
            base = stored / took
            for processes in (1, 2, 4):
                url = await new_database(server, processes)
                stored, took, cpu = await ingest_run(url, processes, urls)
                rows.append(("PostgreSQL", processes, stored, f"{took:.1f}", f"{cpu:.1f}",
                             f"{stored / took:.1f}", f"{stored / took / base:.2f}"))
            print(f"Ingest: {len(distinct)} distinct ria.ru articles in {feeds} feeds, each run"
                  " from an empty database (ratio to SQLite's one process); load average"
                  f" {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end,"
                  f" on {os.cpu_count()} cores")
            print_table(rows, ("store", "processes", "articles", "seconds", "cpu s (all)",
                               "articles/s", "ratio"))
            print()
            lite = await deliver_run(str(Path(tmp) / "deliver.db"), chats)
            pg = await deliver_run(await new_database(server, 99), chats)
            print(f"Delivery: {chats} messages through the fake Bot API (30/s overall);"
                  " target >= 29 msg/s")
            print_table([("SQLite", f"{lite:.1f}"), ("PostgreSQL", f"{pg:.1f}")],
                        ("store", "messages/s"))
    finally:
        server.stop()
        await runner.cleanup()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        asyncio.run(worker(sys.argv[2], sys.argv[4:], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=16)
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--articles", type=int, default=912, help="distinct articles used")
    args = parser.parse_args()
    asyncio.run(bench(args.feeds, args.chats, args.articles))


if __name__ == "__main__":
    main()
