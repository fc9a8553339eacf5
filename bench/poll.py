"""Polling at scale, and the memory of `pressbot run`.

1. N feed sources (1,000 by default), each on its own loopback address (127.1.x.y, so that the
   per-host limit applies per site as it would on the internet), serving a small RSS feed of
   real ria.ru articles with an ETag. A cold round stores everything; then a warm round where
   most sources answer 304 and a few (5%) have one new item. Yardstick in the same run: the
   warm round done with feedparser's own HTTP client (feedparser.parse(url, etag=...)), one
   source after another, as simple bots do.
2. The memory of the real `pressbot run` (a subprocess, embedded defaults but these sources)
   over an archive of M stored articles (100,000 by default, generated from the real corpus and
   run through the pipeline once; kept with --db for the next run) while it polls all N
   sources: peak and current resident memory from /proc. It runs as a Telegram bot (token set,
   long polling) against the fake Bot API of tests/fakebot.py, with S subscribers (100 by
   default) receiving every new story, so the sender and aiogram's models are at work too.

Targets: the warm round of 1,000 sources in under 10 s; `pressbot run` with 1,000 sources and
100k articles under 300 MB, under 400 MB with NER and the story encoder ([dedup] semantic; the
"vectors made" column says whether it ran) (RSS-to-Telegram-Bot reports 350 MB for 6,000
feeds on one core).

    python bench/poll.py [--sources 1000] [--articles 100000] [--subscribers 100]
                         [--db /tmp/poll-archive.db] [--memory-only] [--ner-off-too]
                         [--encoder-off-too]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402
from fakebot import FakeBotAPI  # noqa: E402

from bench._data import load_ria, print_table  # noqa: E402
from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics  # noqa: E402
from bot.ingest.fetch import Fetcher  # noqa: E402
from bot.models import Entry  # noqa: E402
from bot.pipeline import process  # noqa: E402
from bot.poller import Poller  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from bot.understand.analyzer import Understanding  # noqa: E402

ITEMS = 5


def address(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 1}"


class Sites:
    """N small feeds, one per loopback address, each with a version behind its ETag."""

    def __init__(self, n: int, articles) -> None:
        self.n = n
        self.articles = articles
        self.version = [0] * n
        self.hits = 0
        self.not_modified = 0
        self.ports: list[int] = []
        self._runner: web.AppRunner | None = None

    def body(self, i: int) -> bytes:
        items = []
        for k in range(ITEMS + self.version[i]):
            a = self.articles[(i * 7 + k * 131) % len(self.articles)]
            text = "".join(f"<p>{html.escape(p)}</p>" for p in a.content.split("  ") if p)
            items.append(f"<item><title>{html.escape(a.title)} ({i}.{k})</title>"
                         f"<link>http://{address(i)}/{k}</link><guid>{i}-{k}</guid>"
                         f"<description><![CDATA[{text}]]></description></item>")
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>site {i}</title>{''.join(items)}</channel></rss>").encode()

    async def handle(self, request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        self.hits += 1
        etag = f'"v{self.version[i]}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.body(i), headers={"ETag": etag},
                            content_type="application/rss+xml")

    def url(self, i: int) -> str:
        return f"http://{address(i)}:{self.ports[i]}/feed/{i}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feed/{i}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for i in range(self.n):
            site = web.TCPSite(self._runner, address(i), 0)
            await site.start()
            self.ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def sources(sites: Sites) -> tuple[SourceConfig, ...]:
    return tuple(SourceConfig(f"site-{i}", "feed", url=sites.url(i), interval=3600)
                 for i in range(sites.n))


async def poll_round(poller: Poller, ids: list[int]) -> tuple[float, int, int]:
    start = time.perf_counter()
    results = await asyncio.gather(*(poller.poll(i) for i in ids))
    elapsed = time.perf_counter() - start
    return (elapsed, sum(r.status == "failed" for r in results),
            sum(r.new for r in results))


def feedparser_round(sites: Sites, etags: dict[int, str]) -> float:
    start = time.perf_counter()
    for i in range(sites.n):
        parsed = feedparser.parse(sites.url(i), etag=etags.get(i))
        if getattr(parsed, "etag", None):
            etags[i] = parsed.etag
    return time.perf_counter() - start


async def speed(n: int, changed: float, articles) -> list[tuple]:
    sites = Sites(n, articles)
    await sites.start()
    fetch = FetchConfig(fulltext_min_chars=0)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with await Store.open(Path(tmp) / "poll.db") as store:
                states = await store.sources.sync(sources(sites))
                ids = [s.id for s in states]
                async with Fetcher(fetch) as fetcher:
                    poller = Poller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                                    understanding=Understanding(default_topics(), ner=False))
                    cold, failed, new = await poll_round(poller, ids)
                    rows.append(("pressbot, cold round (all 200, stored)", n, f"{cold:.2f}",
                                 failed, new, "-"))
                    rng = random.Random(1)
                    for i in rng.sample(range(n), int(n * changed)):
                        sites.version[i] += 1
                    before = sites.not_modified
                    warm, failed, new = await poll_round(poller, ids)
                    rows.append((f"pressbot, warm round ({changed:.0%} changed)", n,
                                 f"{warm:.2f}", failed, new, sites.not_modified - before))
        etags: dict[int, str] = {}
        await asyncio.to_thread(feedparser_round, sites, etags)  # its cold round
        for i in random.Random(2).sample(range(n), int(n * changed)):
            sites.version[i] += 1
        before = sites.not_modified
        warm_fp = await asyncio.to_thread(feedparser_round, sites, etags)
        rows.append((f"yardstick: feedparser.parse(url, etag), one by one ({changed:.0%} "
                     "changed)", n, f"{warm_fp:.2f}", "-", "-", sites.not_modified - before))
    finally:
        await sites.stop()
    return rows


async def build_archive(path: Path, count: int, articles) -> None:
    """``count`` articles made of real paragraphs, through the whole pipeline (no NER)."""
    async with await Store.open(path) as store:
        have = await store.articles.count()
        if have >= count:
            return
        rng = random.Random(7)
        paragraphs = [p for a in articles for p in a.content.split("  ") if len(p) > 80]
        vocab = sorted({w for p in paragraphs[:3000] for w in p.split() if w.isalpha()})

        def distinct(paragraph: str) -> str:
            # a third of the words swapped for random corpus words: real text shape, but no
            # two generated articles share paragraphs (which would make them reprints)
            return " ".join(rng.choice(vocab) if rng.random() < 0.33 else w
                            for w in paragraph.split())

        understanding = Understanding(default_topics(), ner=False)
        started = time.perf_counter()
        now = datetime.now(UTC)
        done = have
        while done < count:
            batch = []
            for _ in range(min(500, count - done)):
                a = rng.choice(articles)
                text = "\n\n".join(distinct(p) for p in rng.sample(paragraphs, rng.randint(3, 6)))
                # a year of news: about 270 articles a day
                at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
                batch.append(Entry(title=f"{a.title} #{done + len(batch)}", text=text,
                                   url=f"https://archive.example/{done + len(batch)}",
                                   published=at, origin="archive"))
            await process(store, batch, understanding=understanding)
            done += len(batch)
            rate = (done - have) / (time.perf_counter() - started)
            print(f"\rarchive: {done}/{count} articles ({rate:.0f}/s)", end="",
                  file=sys.stderr, flush=True)
        print(file=sys.stderr)


def proc_memory(pid: int) -> tuple[float, float]:
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


TOKEN = "123456789:AAF-bench-token-for-the-fake-api-0123456"


async def run_memory(n: int, archive: Path, articles, subscribers: int,
                     ner: bool = True, semantic: bool = True) -> tuple:
    sites = Sites(n, articles)
    await sites.start()
    fake = FakeBotAPI()
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "run.db"
            shutil_copy(archive, db_path)
            async with await Store.open(db_path) as store:  # chats with no filters: all news
                await store.chats.add_many([10_000 + i for i in range(subscribers)])
            config = Path(tmp) / "config.toml"
            lines = [f'[database]\npath = "{db_path}"\n[scheduler]\njitter = 0\n'
                     f'[telegram]\napi_server = "{fake.base}"\n'
                     f'[fetch]\nfulltext_min_chars = 0\n[understanding]\n'
                     f'ner = {"true" if ner else "false"}\n'
                     f'[dedup]\nsemantic = {"true" if semantic else "false"}\n']
            for s in sources(sites):
                lines.append(f'[[sources]]\nname = "{s.name}"\nkind = "feed"\nurl = "{s.url}"\n'
                             f"interval = 3600\n")
            config.write_text("".join(lines), encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": str(ROOT), "PRESSBOT_TOKEN": TOKEN}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(config), "run",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env)
            started = time.perf_counter()
            polled = 0
            while time.perf_counter() - started < 600:
                await asyncio.sleep(1)
                conn = sqlite3.connect(db_path)
                polled = conn.execute("SELECT COUNT(*) FROM sources WHERE last_checked_at IS"
                                      " NOT NULL").fetchone()[0]
                conn.close()
                if polled >= n:
                    break
            took = time.perf_counter() - started
            await asyncio.sleep(5)
            peak, current = proc_memory(proc.pid)
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 60)
            conn = sqlite3.connect(db_path)
            vectors = conn.execute("SELECT COUNT(*) FROM article_embeddings").fetchone()[0]
            conn.close()
    finally:
        await fake.stop()
        await sites.stop()
    return (f"pressbot run, {n} sources, {archive_size(archive)} articles, NER "
            f"{'on' if ner else 'off'}, encoder {'on' if semantic else 'off'}", polled,
            len(fake.sent), vectors, f"{took:.0f}", f"{peak:.0f}", f"{current:.0f}")



def shutil_copy(src: Path, dst: Path) -> None:
    source = sqlite3.connect(src)
    dest = sqlite3.connect(dst)
    source.backup(dest)
    dest.close()
    source.close()


def archive_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    count = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    conn.close()
    return count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir())
                        / "pressbot-poll-archive.db", help="archive to build or reuse")
    parser.add_argument("--memory-only", action="store_true", help="skip the polling rounds")
    parser.add_argument("--ner-off-too", action="store_true",
                        help="measure pressbot run with [understanding] ner = false as well")
    parser.add_argument("--encoder-off-too", action="store_true",
                        help="measure pressbot run with [dedup] semantic = false as well")
    args = parser.parse_args()
    articles = load_ria()
    if not args.memory_only:
        rows = await speed(args.sources, args.changed, articles)
        print_table(rows, ("round", "sources", "seconds", "failed", "new articles", "304s"))
        print("target: warm round of 1,000 sources in under 10 s\n")
    await build_archive(args.db, args.articles, articles)
    rows = [await run_memory(args.sources, args.db, articles, args.subscribers, ner, semantic)
            for ner in ((True, False) if args.ner_off_too else (True,))
            for semantic in ((True, False) if args.encoder_off_too else (True,))]
    print_table(rows, ("process", "sources polled", "messages sent", "vectors made",
                       "seconds to poll all", "peak RSS MiB", "RSS MiB"))
    print("target: under 300 MB; with NER and the encoder under 400 MB (issue 15)"
          " (RSS-to-Telegram-Bot: 350 MB for 6,000 feeds)")


if __name__ == "__main__":
    asyncio.run(main())
