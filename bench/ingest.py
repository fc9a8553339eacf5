"""Ingest throughput: the 925 ria.ru articles served as one RSS feed (and their pages, for any
entry that looks like a teaser) on 127.0.0.1, polled once through fetch + parse + clean + store
into a fresh SQLite file. Prints articles/s and peak memory. Target: >= 300 articles/s, one core.
With understanding (topics, summaries, figures; --ner adds natasha's NER) and --semantic (the
story encoder, [dedup] semantic): >= 50 articles/s with NER and the encoder, >= 300 with
ner = false (issue 15). --matrix runs the four cases of understanding with or without NER, with
or without the encoder (each row: texts the encoder read, and its share of the time). Articles
of one outlet never join by similarity, so the encoder reads nothing unless --outlets 2.

    python bench/ingest.py [--repeat 3] [--understanding] [--ner] [--semantic] [--matrix]
                           [--outlets 2]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from bench._data import load_ria, print_table, serve_loopback
from bot.config import FetchConfig, SchedulerConfig, SourceConfig, default_topics
from bot.ingest.fetch import Fetcher
from bot.poller import Poller
from bot.storage.store import Store
from bot.understand.analyzer import Understanding
from bot.understand.encoder import E5Encoder


class TimedEncoder(E5Encoder):
    """pressbot's encoder, counting the texts it reads and the seconds it takes."""

    def __init__(self) -> None:
        self.texts = 0
        self.seconds = 0.0

    def embed(self, texts):
        start = time.perf_counter()
        try:
            return super().embed(texts)
        finally:
            self.texts += len(texts)
            self.seconds += time.perf_counter() - start


def build_feed(articles, base: str, outlets: int = 1) -> bytes:
    """``outlets`` 2: every other item links to another host (localhost), as a feed that
    aggregates two outlets: only reports of different outlets join a story by similarity."""
    items = []
    for n, a in enumerate(articles):
        link = base.replace("127.0.0.1", "localhost") if outlets > 1 and n % 2 else base
        paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in a.content.split("  ")
                             if p.strip())
        try:
            when = datetime.fromisoformat(a.published).replace(tzinfo=UTC)
            pub = f"<pubDate>{format_datetime(when)}</pubDate>"
        except ValueError:
            pub = ""
        items.append(f"<item><title>{html.escape(a.title)}</title><link>{link}/a/{a.id}?utm_"
                     f"source=rss</link><guid>{a.id}</guid>{pub}<description><![CDATA["
                     f"{paragraphs}]]></description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>РИА'
            f"</title><link>{base}/</link><description>bench</description>{''.join(items)}"
            f"</channel></rss>").encode()


async def run_once(articles, understanding: Understanding | None = None,
                   encoder: TimedEncoder | None = None, outlets: int = 1
                   ) -> tuple[float, int]:
    pages = {a.id: f"<html><body><article><h1>{html.escape(a.title)}</h1><p>"
                   f"{html.escape(a.content)}</p></article></body></html>" for a in articles}
    app = web.Application()
    feed: dict[str, bytes] = {}

    async def serve_feed(request: web.Request) -> web.Response:
        return web.Response(body=feed["rss"], content_type="application/rss+xml")

    async def serve_page(request: web.Request) -> web.Response:
        return web.Response(text=pages[request.match_info["id"]], content_type="text/html")

    app.router.add_get("/rss", serve_feed)
    app.router.add_get("/a/{id}", serve_page)
    runner, port = await serve_loopback(app)
    base = f"http://127.0.0.1:{port}"
    feed["rss"] = build_feed(articles, base, outlets)
    fetch = FetchConfig(max_body_bytes=100_000_000, per_host=8)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        store.encoder = encoder
        async with store:
            (state,) = await store.sources.sync((SourceConfig("ria", "feed", url=f"{base}/rss"),))
            async with Fetcher(fetch) as fetcher:
                poller = Poller(store, fetcher, fetch, SchedulerConfig(jitter=0),
                                understanding=understanding)
                start = time.perf_counter()
                result = await poller.poll(state.id)
                elapsed = time.perf_counter() - start
            stored = await store.articles.count()
    await runner.cleanup()
    if result.status != "ok":
        sys.exit(f"bench: poll failed: {result.error}")
    return elapsed, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--understanding", action="store_true",
                        help="topics, summaries and figures, as pressbot run does")
    parser.add_argument("--ner", action="store_true", help="understanding with NER")
    parser.add_argument("--semantic", action="store_true", help="the story encoder")
    parser.add_argument("--outlets", type=int, default=1, choices=(1, 2),
                        help="2: items of two outlets (the encoder meets only those)")
    parser.add_argument("--matrix", action="store_true",
                        help="understanding with/without NER x with/without the encoder")
    args = parser.parse_args()
    articles = load_ria()
    if args.matrix:
        cases = [(True, False, False), (True, False, True), (True, True, False),
                 (True, True, True)]
    else:
        cases = [(args.understanding or args.ner, args.ner, args.semantic)]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = []
    best: dict[str, float] = {}
    for understand, ner, semantic in cases:
        label = ("understanding, " + ("NER" if ner else "ner = false") if understand
                 else "no understanding") + (", encoder" if semantic else "")
        understanding = Understanding(default_topics(), ner=ner) if understand else None
        for i in range(args.repeat):
            encoder = TimedEncoder() if semantic else None
            elapsed, stored = asyncio.run(run_once(articles, understanding, encoder,
                                                   args.outlets))
            rate = stored / elapsed
            best[label] = max(best.get(label, 0.0), rate)
            rows.append((label, f"run {i + 1}", len(articles), stored, f"{elapsed:.2f}",
                         f"{rate:.0f}", encoder.texts if encoder else "",
                         f"{encoder.seconds / elapsed:.0%}" if encoder else ""))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print_table(rows, ("case", "run", "entries", "stored", "seconds", "articles/s",
                       "encoded", "encoder time"))
    print()
    for label, rate in best.items():
        target = 50 if "NER" in label else 300
        print(f"{label}: best {rate:.0f} articles/s (target >= {target})")
    print(f"peak RSS {peak / 1024:.0f} MiB (process, {rss_before / 1024:.0f} MiB before the runs,"
          " corpus loaded)")


if __name__ == "__main__":
    main()
